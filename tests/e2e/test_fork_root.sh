#!/usr/bin/env bash
# test_fork_root.sh — a fork settled at its root, with real daemons.
#
# Line node1 - node2 - node3. node2 writes 1..5, which all hold; node1
# alone receives node2's 6. node2 is restored from a backup taken at 5 and
# writes 6', 7', 8', which only node3 receives (node1 down). node3 stops;
# node1 and node2 meet: the fork settles at 6 (node1's op is older),
# node2 re-enters its three lost reports as 7, 8, 9. node3 comes back
# holding the cut branch: every op it meets from node2 at 7 and 8 has
# another prev than its own (a pair below the fork's root, which settles
# nothing), so its probe walks down to 6 — or the evidence settles it
# first; either way all three end with one digest, node2's whole live log
# and the three reports once each, and node2 signs on.
. "$(dirname "$0")/lib_gossip.sh"

testbed 3 line
start_node 1
start_node 2
start_node 3
k2=$(node_key 2)
data2="$T/tb/node2/data"

for k in 1 2 3 4; do
    fm 2 incident report --category fire --lat 50.$k --lon 4 --desc "base $k" >/dev/null ||
        fail "base report"
done
wait_for 30 "node2's base ops everywhere" digests_equal 1 2
wait_for 30 "node2's base ops at node3" digests_equal 2 3
stop_node 3
stop_node 2
cp -a "$data2" "$T/backup" || fail "backup"
start_node 2
fm 2 incident report --category fire --lat 51 --lon 4 --desc "original six" >/dev/null ||
    fail "original six"
wait_for 30 "node2's sixth op at node1" digests_equal 1 2
stop_node 2
stop_node 1

rm -rf "$data2" && cp -a "$T/backup" "$data2" || fail "restore"
for k in a b c; do
    fm 2 incident report --category chemical --lat 52 --lon 4 --desc "lost $k" >/dev/null ||
        fail "write after restore"
done
start_node 2
start_node 3
wait_for 30 "the restored branch at node3" digests_equal 2 3
stop_node 3
log "node3 holds node2's cut branch 6', 7', 8'"

start_node 1
once_each() {
    local i=$1 d
    fm "$i" incident list --json >"$T/list$i" || return 1
    for d in "original six" "lost a" "lost b" "lost c"; do
        [ "$(grep -c "\"$d\"" "$T/list$i")" -eq 1 ] || return 1
    done
}
wait_for 40 "the fork settled and the lost reports re-entered, at node2" once_each 2
wait_for 40 "node1 equal to node2" digests_equal 1 2

start_node 3
wait_for 60 "node3 equal to node2" digests_equal 2 3
wait_for 30 "node1 equal to node2" digests_equal 1 2
for i in 1 2 3; do
    once_each "$i" || fail "node$i does not show each report exactly once"
done
head_of() { fm "$1" status --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(next((h["seq"] for h in d["heads"] if h["author"] == sys.argv[1]), 0))' "$k2"; }
h2=$(head_of 2)
[ "$(head_of 1)" = "$h2" ] && [ "$(head_of 3)" = "$h2" ] ||
    fail "node2's log: $(head_of 1) at node1, $h2 at node2, $(head_of 3) at node3"
grep -q "lower down" "$T/daemon3.log" && log "node3's probe walked down to the root"

id=$(fm 2 incident report --category flood --lat 53 --lon 4 --desc "after all") ||
    fail "node2 cannot sign after the fork"
has_id() { fm "$1" incident list --json | grep -q "\"id\": *\"$id\""; }
wait_for 30 "node2's new incident at node1" has_id 1
wait_for 30 "node2's new incident at node3" has_id 3
wait_for 30 "equal digests at the end" digests_equal 1 3

stop_node 1
stop_node 2
stop_node 3
FAILED=0
echo "PASS: test_fork_root"
