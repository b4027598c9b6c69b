#!/usr/bin/env bash
# test_at_rest.sh — a lost or stolen laptop (issue 9, items 7 and 9;
# docs/security.md). Three daemons in a line; incidents with a caller's
# number reported at node3 reach node1 through node2. Then:
#  - no node's data.mdb (nor anything else in its data dir) holds the
#    number, and node.key holds no plaintext key (its public half, which a
#    plaintext secret key file contains, is not in the decoded file);
#  - the CLI reads through the daemon's keys with no passphrase anywhere;
#  - a wrong passphrase: clear error, nonzero exit, store untouched, and
#    the daemon refuses to start;
#  - node3 hears of its own revocation: its daemon destroys the data key
#    and stops, and the store cannot be opened any more, even with the
#    right passphrase.
. "$(dirname "$0")/lib_gossip.sh"

PHONE="13955501234"
testbed 3 line
for i in 1 2 3; do start_node "$i"; done
# callers are sealed to the dispatchers' key (every node here is one)
fm 1 trust publish "$T/tb/org/dispatch-key" >/dev/null 2>&1 || fail "publish the dispatcher key"
holds_key() { fm "$1" log | grep -q 'dispatch.key'; }
wait_for 30 "the dispatcher key at node3" holds_key 3

id=$(fm 3 incident report --category building_fire --lat 31.2302 --lon 121.4751 \
    --address "No. 1 Department Store" --caller "+86$PHONE" --priority 1 \
    --desc "smoke on the third floor" 2>/dev/null) || fail "report at node3"
fm 3 incident note "$id" "second call from +86$PHONE: people on the roof" >/dev/null 2>&1 ||
    fail "note at node3"
id2=$(fm 1 incident report --category rescue --lat 31.1 --lon 121.3 --caller "$PHONE" \
    2>/dev/null) || fail "report at node1"
has() { fm "$1" incident show "$2" --json | grep -q "$PHONE"; }
wait_for 30 "node3's incident with its caller at node1" has 1 "$id"
wait_for 30 "node1's incident with its caller at node3" has 3 "$id2"
wait_for 30 "node2 holds both" digests_equal 1 2 3

# the CLI got its keys from the daemon: no passphrase file, no terminal
for i in 1 2 3; do
    mv "$T/tb/node$i/passphrase" "$T/pass$i"
    out=$(fm "$i" incident show "$id" --json </dev/null 2>"$T/err") ||
        fail "node$i: CLI without a passphrase while its daemon runs: $(cat "$T/err")"
    case "$out" in *"$PHONE"*) ;; *) fail "node$i: the caller's number is not readable" ;; esac
    mv "$T/pass$i" "$T/tb/node$i/passphrase"
done
log "the CLI reads through the daemon's key socket on every node"

# nothing on disk holds the number or a key in clear
for i in 1 2 3; do
    d="$T/tb/node$i/data"
    [ -s "$d/data.mdb" ] || fail "node$i has no data.mdb"
    if grep -a -c "$PHONE" "$d/data.mdb" >/dev/null; then
        fail "node$i: the caller's number is in data.mdb in clear"
    fi
    if grep -r -a -l -D skip "$PHONE" "$d" >"$T/found"; then
        fail "node$i: the caller's number is in $(cat "$T/found")"
    fi
    head -n 1 "$d/node.key" | grep -qx "fieldmesh-sealed-key 1" || fail "node$i: node.key is not sealed"
    head -n 1 "$d/data.key" | grep -qx "fieldmesh-sealed-key 1" || fail "node$i: data.key is not sealed"
    python3 - "$d/node.key" "$(node_key "$i")" <<'EOF' || fail "node$i: node.key holds its key in clear"
import base64, sys
body = open(sys.argv[1]).read().split("\n")[1]
raw = base64.b64decode(body)
text = sys.argv[2].upper() + "====="[: (8 - len(sys.argv[2]) % 8) % 8]
pk = base64.b32decode(text)
# a plaintext Ed25519 secret key is seed || public key
sys.exit(1 if pk in raw or len(pk) != 32 else 0)
EOF
done
log "no caller number and no clear key on any node's disk"

# a wrong passphrase: clear error, exit 3, nothing touched
stop_node 2
sum_before=$(sha256sum "$T/tb/node2/data/data.mdb" "$T/tb/node2/data/data.key")
printf 'not the passphrase\n' >"$T/wrong" && chmod 600 "$T/wrong"
FIELDMESH_PASSPHRASE_FILE="$T/wrong" fm 2 incident list >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" -eq 3 ] || fail "wrong passphrase: exit $rc, want 3"
grep -q "wrong passphrase" "$T/err" || fail "wrong passphrase: message was: $(cat "$T/err")"
[ ! -s "$T/out" ] || fail "wrong passphrase: something was printed: $(cat "$T/out")"
timeout 10 "$FIELDMESHD" -c "$(conf 2)" --passphrase-file "$T/wrong" 2>"$T/d2wrong.log"
rc=$?
[ "$rc" -ne 0 ] || fail "fieldmeshd started with a wrong passphrase"
grep -q "wrong passphrase" "$T/d2wrong.log" || fail "fieldmeshd: $(cat "$T/d2wrong.log")"
[ "$(sha256sum "$T/tb/node2/data/data.mdb" "$T/tb/node2/data/data.key")" = "$sum_before" ] ||
    fail "a wrong passphrase changed the store or the data key"
fm 2 incident show "$id" --json | grep -q "$PHONE" || fail "right passphrase no longer opens node2"
log "a wrong passphrase is refused with exit 3 and touches nothing"

# node3 hears of its own revocation: the data key is destroyed
k3=$(node_key 3)
fm 3 org revoke --org "$T/tb/org" --key "$k3" --last-seq 1 --out "$T/rev" \
    >/dev/null 2>&1 || fail "org revoke"
fm 3 trust publish "$T/rev" >/dev/null 2>"$T/err" || fail "trust publish at node3: $(cat "$T/err")"
gone() { ! kill -0 "${PIDS[3]}" 2>/dev/null; }
wait_for 30 "node3's daemon to stop after its revocation" gone
wait "${PIDS[3]}" 2>/dev/null
unset "PIDS[3]"
grep -q "data key destroyed" "$T/daemon3.log" || fail "node3 did not log the shredding"
[ ! -e "$T/tb/node3/data/data.key" ] || fail "node3's data.key survived its revocation"
[ -e "$T/tb/node3/data/data.key.shredded" ] || fail "node3 left no shredded marker"
fm 3 incident list >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" -ne 0 ] || fail "node3's store still opens after its revocation"
grep -q "destroyed" "$T/err" || fail "node3: $(cat "$T/err")"
timeout 10 "$FIELDMESHD" -c "$(conf 3)" 2>"$T/d3again.log" && fail "node3's daemon started again"
if grep -a -c "$PHONE" "$T/tb/node3/data/data.mdb" >/dev/null; then
    fail "node3: the number is readable in data.mdb"
fi
log "node3's store is unreadable after it heard of its revocation"

# the others go on
fm 1 incident show "$id" --json | grep -q "$PHONE" || fail "node1 lost the incident"
FAILED=0
echo "PASS"
