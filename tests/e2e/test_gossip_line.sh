#!/usr/bin/env bash
# test_gossip_line.sh — a 3-node line A - B - C (A and C are not peers):
# an incident reported at C reaches A through B (store-and-forward), a note
# added at A travels back to C, all digests end equal, and every daemon
# stops cleanly (exit 0) on SIGTERM. Then the daemon's refusals: a bad
# config, a readable secret key, a second daemon on the same store.
. "$(dirname "$0")/lib_gossip.sh"

testbed 3 line
for i in 1 2 3; do start_node "$i"; done

id=$(fm 3 incident report --category fire --lat 52.09 --lon 5.12 --desc "barn fire seen from the road") ||
    fail "report at C failed"
[ -n "$id" ] || fail "report printed no id"
log "reported $id at C"

at_node() { fm "$1" incident list --json | grep -q "\"id\": *\"$2\""; }
wait_for 30 "incident $id at A (via B)" at_node 1 "$id"
at_node 2 "$id" || fail "B relayed an op it does not hold"
log "incident reached A"

fm 1 incident note "$id" "engine 4 dispatched from the centre" >/dev/null || fail "note at A failed"
has_note() { fm 3 incident show "$id" --json | grep -q "engine 4 dispatched"; }
wait_for 30 "A's note at C" has_note
wait_for 30 "equal digests on A, B, C" digests_equal 1 2 3
[ "$(op_ids 1)" = "$(op_ids 3)" ] || fail "A and C hold different ops"
log "digest $(digest 1) on all three"

for i in 1 2 3; do stop_node "$i"; done

# the daemon's refusals: a bad config (78), a readable secret key, a
# second daemon on the same store
printf 'node:\n  name: x\n  bogus: 1\n' >"$T/bad.yaml"
"$FIELDMESHD" -c "$T/bad.yaml" 2>"$T/bad.err"
[ $? -eq 78 ] || fail "a bad config must exit 78"
grep -q "bad.yaml:3:" "$T/bad.err" || fail "no file:line for the bad config"
chmod 644 "$T/tb/node1/data/node.key"
timeout 30 "$FIELDMESHD" -c "$(conf 1)" 2>"$T/perm.err"
rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 124 ] && fail "started with a world-readable key"
grep -q "readable by group or others" "$T/perm.err" || fail "no clear message for the key mode"
chmod 600 "$T/tb/node1/data/node.key"
start_node 1
wait_for 30 "node1's daemon up again" daemon_up 1
# (each refused start is bounded: a daemon that did start would otherwise
# run in the foreground until ctest kills the whole test)
timeout 30 "$FIELDMESHD" -c "$(conf 1)" 2>"$T/twice.err"
rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 124 ] && fail "a second daemon started on one store"
grep -q "already runs" "$T/twice.err" || fail "no clear message for the second daemon"
stop_node 1
FAILED=0
echo "PASS: test_gossip_line"
