#!/usr/bin/env bash
# test_join.sh — a node enrolled after the mesh was set up joins it with
# no change to any other node's config (docs/field-sync.md, "Joining").
#
# node1 (centre) and node2 (county) run and list each other. node3 gets a
# new key and certificate (keygen, org enroll), lists only node2, and is
# listed by nobody: node2 refuses its handshake (node3's `peers` says
# "refused us"), and what node3 writes stays on node3. Then the centre
# publishes node3's certificate (`trust publish node3.cert`): the announce
# op gossips to node2, node2 admits node3 at its next dial, node3's
# incident reaches the centre and all three digests agree. Publishing it
# again is refused (known already); a station may not announce.
. "$(dirname "$0")/lib_gossip.sh"

: "${FM_SRC:?}"
pyv() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

pick_ports 3
"$FIELDMESH" testbed "$T/tb" --nodes 3 --topology line --base-port "$BASE" \
    --roles centre,county,station >/dev/null 2>"$T/testbed.err" || fail "testbed failed"

# node3: a new identity nobody lists (the old key stays in node2's config)
rm -rf "$T/tb/node3/data"
mkdir -m 700 "$T/tb/node3/data"
NEW=$(fm 3 keygen 2>"$T/err") || fail "keygen: $(cat "$T/err")"
"$FIELDMESH" org enroll --org "$T/tb/org" --key "$NEW" --name node3 --role station \
    --unit "Station 9" --out "$T/node3.cert" >/dev/null 2>"$T/enroll.err" ||
    fail "enroll: $(cat "$T/enroll.err")"
grep -q "next: fieldmesh -c CONF trust publish $T/node3.cert" "$T/enroll.err" ||
    fail "org enroll does not say how peers admit the node: $(cat "$T/enroll.err")"
cp "$T/node3.cert" "$T/tb/node3/data/node.cert"
for i in 1 2 3; do start_node "$i"; done
wait_for 60 "node1 and node2 up" daemon_up 1
wait_for 60 "node3 up" daemon_up 3

refused_by_2() {
    fm 3 peers --json | python3 -c '
import json, sys
mine = [p for p in json.load(sys.stdin) if p["name"] == "node2"]
sys.exit(0 if mine and mine[0]["refused_us"] else 1)'
}
wait_for 60 "node2 refusing node3's new key" refused_by_2
fm 3 status | grep -q "refuse this node's handshake" || fail "status does not warn: $(fm 3 status)"
# it holds no revocation of its own key and its certificate is in force,
# so the log says the likely cause: node2 does not know the certificate yet
grep -q "refused by peer node2 .*not admitted, although this node holds no revocation of its key and its certificate is in force: node2 does not know this node's certificate yet" \
    "$T/daemon3.log" || fail "node3's log does not name the likely cause: $(grep refused "$T/daemon3.log")"
INC=$(fm 3 incident report --category fire --lat 31.23 --lon 121.47 2>/dev/null) || fail "report on node3"
sleep 3 # a negative check: no path exists, so nothing may arrive
fm 1 incident show "$INC" >/dev/null 2>&1 && fail "node3's incident reached node1 before it was admitted"

# a station may not announce; the centre does
fm 2 status >/dev/null || fail "node2 status"
"$FIELDMESH" org enroll --org "$T/tb/org" --key "$(node_key 1)" --name x --role station \
    --out "$T/other.cert" >/dev/null 2>&1 || fail "enroll another"
fm 3 trust publish "$T/other.cert" >/dev/null 2>"$T/err"
[ $? -ne 0 ] || fail "a station announced a certificate"
grep -q "only centre, county and admin nodes announce new nodes" "$T/err" ||
    fail "station announcing: $(cat "$T/err")"
OUT=$(fm 1 trust publish "$T/node3.cert" 2>"$T/err") || fail "trust publish: $(cat "$T/err")"
echo "$OUT" | grep -q "^announced $NEW 'node3' (station)" || fail "publish said: $OUT"
fm 1 trust publish "$T/node3.cert" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "a second announcement: not exit 1"
grep -q "is known here already" "$T/err" || fail "second announcement: $(cat "$T/err")"
fm 1 log --json | pyv '[o["kind"] for o in d].count("cert.announce")' | grep -qx 1 ||
    fail "node1's log does not hold one cert.announce"

wait_for 90 "node3's incident on node1" fm 1 incident show "$INC"
admitted_by_2() { ! refused_by_2; }
wait_for 60 "node2 admitting node3" admitted_by_2
wait_for 90 "equal digests" digests_equal 1 2 3
# node3's own log (its certificate first) is on node1 now
fm 1 log --author "$NEW" --json | pyv 'd[0]["kind"]' | grep -qx cert || fail "node3's log on node1"
FAILED=0
echo "ok: a node enrolled later joins once its certificate is announced"
