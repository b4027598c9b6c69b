#!/usr/bin/env bash
# test_fork_equal.sh — a restored node writes exactly as many ops as its
# backup lost, so both branches of its log are equally long: the version
# vectors are equal and only the summaries differ. Nothing would ever be
# pulled; the engines must notice the difference is in the head ops,
# probe, walk down to the fork's root and settle. Then every node holds
# the same ops and digest, the post-restore incidents are visible
# everywhere under new ids, and `status` explains the fork — without the
# restored node writing again.
. "$(dirname "$0")/lib_gossip.sh"

testbed 2 line
start_node 1
start_node 2
k2=$(node_key 2)
data2="$T/tb/node2/data"

fm 2 incident report --category fire --lat 50 --lon 4 --desc "base" >/dev/null || fail "base report"
wait_for 30 "node2's first ops at node1" digests_equal 1 2
stop_node 2
cp -a "$data2" "$T/backup" || fail "backup"
start_node 2
for k in 1 2; do
    fm 2 incident report --category fire --lat 51.$k --lon 4 --desc "before restore $k" \
        >/dev/null || fail "report before the restore"
done
wait_for 30 "node2's pre-restore ops at node1" digests_equal 1 2
stop_node 2

# restore and write exactly as many ops, with the daemon down
rm -rf "$data2" && cp -a "$T/backup" "$data2" || fail "restore"
for k in 1 2; do
    fm 2 incident report --category fire --lat 52.$k --lon 4 --desc "after restore $k" \
        >/dev/null || fail "report after the restore"
done
[ "$(op_ids 1 | awk -v k="$k2" '$1 == k' | wc -l)" = \
  "$(op_ids 2 | awk -v k="$k2" '$1 == k' | wc -l)" ] || fail "the two branches should be equally long"
log "node2 restored and wrote as many ops as the backup lost"

start_node 2
wait_for 60 "equal digests after the equal-length fork" digests_equal 1 2
has_all() { fm "$1" incident list --json | python3 -c '
import json, sys
d = [i["description"] for i in json.load(sys.stdin)]
want = ["base", "before restore 1", "before restore 2", "after restore 1", "after restore 2"]
sys.exit(0 if all(d.count(w) == 1 for w in want) else 1)'; }
wait_for 60 "every incident exactly once on node1" has_all 1
wait_for 60 "every incident exactly once on node2" has_all 2
wait_for 30 "equal digests after re-authoring" digests_equal 1 2
op_ids 1 >"$T/ops1"
op_ids 2 >"$T/ops2"
cmp -s "$T/ops1" "$T/ops2" || fail "node1 and node2 hold different ops"
forks_shown() { fm "$1" status --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(0 if any(f["author"] == sys.argv[1] for f in d["forks"]) else 1)' "$k2"; }
# each node records the fork when it detects it or when the evidence op
# reaches it: wait for it as for any gossip (test_fork.sh does the same)
wait_for 30 "fork evidence in node1's status" forks_shown 1
wait_for 30 "fork evidence in node2's status" forks_shown 2
grep -q "same version vector, different heads" "$T"/daemon*.log ||
    fail "no daemon logged the head probe"
log "converged: digest $(digest 1)"

for i in 1 2; do stop_node "$i"; done
if grep -l -E "Sanitizer|runtime error:" "$T"/daemon*.log 2>/dev/null; then
    fail "sanitizer report in the logs above"
fi
FAILED=0
echo "PASS: test_fork_equal"
