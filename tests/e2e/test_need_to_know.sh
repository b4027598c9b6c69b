#!/usr/bin/env bash
# test_need_to_know.sh — caller details readable by dispatchers only (issue
# 9, item 8; docs/security.md "Need to know"). A centre, a vehicle and a
# county node, all daemons running. The centre publishes the dispatchers'
# key and reports an incident with a caller: the vehicle stores and relays
# it but shows "(sealed: dispatcher only)", null and caller_sealed in
# --json, and nothing it holds decodes to the number; the county shows the
# plain values. A vehicle cannot carry a key record. Revoking the county
# makes `org dispatch-key` rotate to a key the county is not given.
. "$(dirname "$0")/lib_gossip.sh"

PHONE="13955507788"
NAME="Wang Fang"
pick_ports 3
"$FIELDMESH" testbed "$T/tb" --nodes 3 --roles centre,vehicle,county --base-port "$BASE" \
    >/dev/null 2>"$T/testbed.err" || fail "testbed: $(cat "$T/testbed.err")"
[ -f "$T/tb/org/dispatch-key" ] || fail "testbed made no dispatcher key record"
for i in 1 2 3; do start_node "$i"; done

# a vehicle may not carry the key record (exit 3), a centre may
fm 2 trust publish "$T/tb/org/dispatch-key" >/dev/null 2>"$T/err"
[ $? -eq 3 ] || fail "a vehicle published the dispatcher key"
grep -q "only centre, county and admin" "$T/err" || fail "vehicle refusal unclear: $(cat "$T/err")"
fm 1 trust publish "$T/tb/org/dispatch-key" >"$T/out" 2>&1 || fail "publish: $(cat "$T/out")"
grep -q "this node among them" "$T/out" || fail "the centre is not among the key's holders"
holds_key() { fm "$1" log | grep -q 'dispatch.key'; }
wait_for 60 "the key record at node2" holds_key 2
wait_for 60 "the key record at node3" holds_key 3
# status says who can read callers
fm 3 status --json | grep -q '"dispatcher_key": 1' || fail "node3 status: no dispatcher key 1"
fm 2 status --json | grep -q '"dispatcher_key": null' || fail "node2 status: a vehicle holds a key"

id=$(fm 1 incident report --category building_fire --lat 31.2 --lon 121.4 --caller "$PHONE" \
    --caller-name "$NAME" --priority 1 2>"$T/err") || fail "report at node1: $(cat "$T/err")"
grep -q "NOT recorded" "$T/err" && fail "the centre holds the key but dropped the caller"
has() { fm "$1" incident show "$2" --json >/dev/null 2>&1; }
wait_for 60 "node1's incident at node2" has 2 "$id"
wait_for 60 "node1's incident at node3" has 3 "$id"

# the vehicle: sealed
fm 2 incident show "$id" --json >"$T/v.json" || fail "show at the vehicle"
python3 - "$T/v.json" <<'EOF' || fail "vehicle JSON: $(cat "$T/v.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["caller"] is None and d["caller_name"] is None and d["caller_sealed"] is True, d
EOF
fm 2 incident show "$id" >"$T/v.txt" || fail "show at the vehicle"
grep -q "caller: *(sealed: dispatcher only)" "$T/v.txt" || fail "vehicle table: $(cat "$T/v.txt")"
fm 2 incident list --json >"$T/vl.json" || fail "list at the vehicle"
for f in "$T/v.json" "$T/v.txt" "$T/vl.json"; do
    grep -q -e "$PHONE" -e "$NAME" "$f" && fail "the vehicle shows the caller in $f"
done
# every op the vehicle holds, decoded: the number is nowhere in clear
fm 2 log --json >"$T/vlog.json" || fail "log at the vehicle"
python3 - "$T/vlog.json" "$PHONE" "$NAME" <<'EOF' || fail "the vehicle's ops carry the caller in clear"
import base64, binascii, json, sys
ops = json.load(open(sys.argv[1]))
assert any(o["kind"] == "incident.report" for o in ops)
for o in ops:
    p = o["payload"]
    try:
        raw = bytes.fromhex(p)
    except ValueError:
        raw = base64.b64decode(p)
    for secret in sys.argv[2:]:
        assert secret.encode() not in raw, o
        assert secret not in o["summary"], o
EOF
log "the vehicle stores and relays the caller but cannot read it"

# the county and the centre: plain
for i in 1 3; do
    fm "$i" incident show "$id" --json >"$T/d.json" || fail "show at node$i"
    python3 - "$T/d.json" "$PHONE" "$NAME" <<'EOF' || fail "node$i JSON: $(cat "$T/d.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["caller"] == sys.argv[2] and d["caller_name"] == sys.argv[3], d
assert d["caller_sealed"] is False, d
EOF
done
log "dispatchers read the caller"

# at rest: no node's files hold the number
for i in 1 2 3; do
    if grep -r -a -l -D skip -e "$PHONE" "$T/tb/node$i/data" >"$T/found"; then
        fail "node$i: the caller's number is in $(cat "$T/found")"
    fi
done

# a vehicle's own report with a caller: written, caller left out, told so
vid=$(fm 2 incident report --category medical --lat 31.3 --lon 121.5 --caller "$PHONE" \
    2>"$T/err") || fail "the vehicle's report was refused: $(cat "$T/err")"
grep -q "caller was NOT recorded" "$T/err" || fail "no warning: $(cat "$T/err")"
wait_for 60 "the vehicle's incident at node1" has 1 "$vid"
fm 1 incident show "$vid" --json | grep -q "$PHONE" && fail "a caller went out in clear"

# revoking the county: the next dispatcher key is not sealed to it
k3=$(node_key 3)
"$FIELDMESH" org revoke --org "$T/tb/org" --key "$k3" --last-seq 0 --out "$T/rev" \
    >/dev/null 2>&1 || fail "org revoke"
grep -q "$k3" "$T/tb/org/revoked.txt" || fail "org revoke did not record the key"
"$FIELDMESH" org dispatch-key --org "$T/tb/org" --out "$T/dk2" 2>"$T/err" ||
    fail "dispatch-key: $(cat "$T/err")"
grep -q "dispatcher key 2 made, sealed to 1 dispatcher node" "$T/err" ||
    fail "no rotation after revoking a holder: $(cat "$T/err")"
grep -q "$k3" "$T/tb/org/dispatch/holders.2" && fail "the revoked county holds key 2"
fm 1 trust publish "$T/dk2" >/dev/null 2>&1 || fail "publish key 2"
id2=$(fm 1 incident report --category flood --lat 31 --lon 121 --caller "$PHONE" 2>/dev/null) ||
    fail "report with key 2"
fm 1 incident show "$id" --json | grep -q "$PHONE" || fail "the old incident is no longer readable"
fm 1 incident show "$id2" --json | grep -q "$PHONE" || fail "the new incident is not readable"
log "a revoked dispatcher's key is rotated; old incidents stay readable to holders"

# a county laptop enrolled after the rotation: the current key is sealed
# to it as well, and the older generation when the admin asks, so it reads
# the callers of incidents from before its enrolment too (by bundle)
printf 'node4 passphrase\n' >"$T/pass4" && chmod 600 "$T/pass4"
"$FIELDMESH" init --name node4 --role county --org-key "$(cat "$T/tb/org/root.key.pub")" \
    --passphrase-file "$T/pass4" --kdf minimal "$T/n4/node.yaml" >/dev/null 2>&1 || fail "init node4"
fm4() { "$FIELDMESH" -c "$T/n4/node.yaml" "$@"; }
fm4 keygen >/dev/null 2>&1 || fail "keygen node4"
k4=$(tr -d '[:space:]' <"$T/n4/data/node.key.pub")
"$FIELDMESH" org enroll --org "$T/tb/org" --key "$k4" --name node4 --role county \
    --out "$T/n4/data/node.cert" >/dev/null 2>&1 || fail "enroll node4"
"$FIELDMESH" org dispatch-key --org "$T/tb/org" --out "$T/dk2b" 2>"$T/err" || fail "re-seal"
grep -q "dispatcher key 2 sealed again, sealed to 2 dispatcher nodes" "$T/err" ||
    fail "enrolling a dispatcher must re-seal, not rotate: $(cat "$T/err")"
"$FIELDMESH" org dispatch-key --org "$T/tb/org" --generation 1 --out "$T/dk1b" 2>"$T/err" ||
    fail "re-seal generation 1: $(cat "$T/err")"
grep -q "$k3" "$T/tb/org/dispatch/holders.2" && fail "the revoked county got key 2 on re-seal"
fm 1 trust publish "$T/dk2b" >/dev/null 2>&1 || fail "publish key 2 again"
fm 1 trust publish "$T/dk1b" >/dev/null 2>&1 || fail "publish key 1 again"
fm4 bundle vector "$T/v4" >/dev/null 2>&1 || fail "node4 vector"
fm 1 bundle export "$T/b4" --for "$T/v4" >/dev/null 2>"$T/err" || fail "export: $(cat "$T/err")"
fm4 bundle import "$T/b4" >/dev/null 2>"$T/err" || fail "import at node4: $(cat "$T/err")"
fm4 status --json | grep -q '"dispatcher_key": 2' || fail "node4 does not hold key 2"
fm4 incident show "$id" --json | grep -q "$PHONE" || fail "node4 cannot read a generation-1 caller"
fm4 incident show "$id2" --json | grep -q "$PHONE" || fail "node4 cannot read a generation-2 caller"
log "a dispatcher enrolled later reads old and new callers once re-sealed"
log "PASS"
