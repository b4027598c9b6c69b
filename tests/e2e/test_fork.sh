#!/usr/bin/env bash
# test_fork.sh — fork safety with real daemons.
#
# 1. A node restored from an old backup signs again under its identity: a
#    second op at a seq its peers already hold from it. When it rejoins,
#    the fork is detected, both ops are kept as evidence and shown by
#    `status` on both nodes (the evidence gossips as a fork.evidence op),
#    the earlier op is kept everywhere, the restored node gets its lost
#    ops back, and both replicas end equal (same digest, same ops). What
#    the restored node wrote after the restore is not lost: it signs that
#    incident again as a new op, visible on every node under a new id
#    (the old id names the kept op now), and `status` counts it.
# 2. A node whose store was lost but whose key survived must not sign
#    until it has recovered its own log from a peer; then it may.
. "$(dirname "$0")/lib_gossip.sh"

testbed 2 line
start_node 1
start_node 2
k2=$(node_key 2)
data2="$T/tb/node2/data"

for k in 1 2 3; do
    fm 2 incident report --category fire --lat 50.$k --lon 4 --desc "early $k" >/dev/null ||
        fail "early report"
done
wait_for 30 "node2's early ops at node1" digests_equal 1 2
stop_node 2
cp -a "$data2" "$T/backup" || fail "backup"
start_node 2
for k in 1 2 3; do
    fm 2 incident report --category fire --lat 51.$k --lon 4 --desc "later $k" >/dev/null ||
        fail "later report"
done
wait_for 30 "node2's later ops at node1" digests_equal 1 2
stop_node 2
held=$(op_ids 1 | awk -v k="$k2" '$1 == k' | wc -l)

# restore the old backup and write again: a second op at a seq node1 holds
rm -rf "$data2" && cp -a "$T/backup" "$data2" || fail "restore"
lost_id=$(fm 2 incident report --category fire --lat 52 --lon 4 --desc "after restore") ||
    fail "write after restore"
log "node2 restored from a backup and signed again (node1 holds $held of its ops)"

start_node 2
# the post-restore incident, under a new id, on every node
reentered_id() { fm "$1" incident list --json | python3 -c '
import json, sys
ids = [i["id"] for i in json.load(sys.stdin) if i.get("description") == "after restore"]
print(ids[0] if len(ids) == 1 else "")'; }
reentered_on() { r=$(reentered_id "$1") && [ -n "$r" ] && [ "$r" != "$lost_id" ]; }
wait_for 40 "the post-restore incident re-authored, at node2" reentered_on 2
wait_for 40 "the post-restore incident re-authored, at node1" reentered_on 1
wait_for 40 "equal digests after the fork" digests_equal 1 2
forks_shown() { fm "$1" status --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(0 if any(f["author"] == sys.argv[1] for f in d["forks"]) else 1)' "$k2"; }
wait_for 30 "fork evidence in node2's status" forks_shown 2
wait_for 30 "fork evidence in node1's status" forks_shown 1
op_ids 1 >"$T/ops1"
op_ids 2 >"$T/ops2"
cmp -s "$T/ops1" "$T/ops2" || fail "node1 and node2 hold different ops"
for i in 1 2; do
    fm "$i" incident list --json >"$T/list$i"
    [ "$(grep -c '"after restore"' "$T/list$i")" -eq 1 ] ||
        fail "node$i does not show the post-restore incident exactly once"
    [ "$(grep -c '"later ' "$T/list$i")" -eq 3 ] || fail "node$i lacks the ops the backup lost"
    new_id=$(reentered_id "$i")
    fm "$i" incident show "$new_id" | grep -q "after restore" ||
        fail "node$i: incident show $new_id lacks the re-authored report"
    fm "$i" incident show "$lost_id" | grep -q "later 1" ||
        fail "node$i: the old id $lost_id should name the kept op"
done
reauthored() { fm 2 status --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
ok = d["reauthored_ops"] == 1 and [o["state"] for o in d["lost_ops"]] == ["reauthored"]
sys.exit(0 if ok else 1)'; }
reauthored || fail "node2's status does not count one re-authored op"
fm 2 status | grep -q "re-authored: $lost_id" || fail "status text lacks the old -> new id"
log "re-authored after the fork: $(fm 2 status | grep 're-authored:')"
fm 1 status | grep -q "fork:" || fail "status text does not show the fork"
log "fork detected and settled: $(fm 1 status | grep 'fork:' | head -1)"

# node2 signs normally again, on the kept branch
id=$(fm 2 incident report --category flood --lat 53 --lon 4 --desc "after recovery") ||
    fail "node2 cannot sign after recovering"
has_id() { fm 1 incident list --json | grep -q "\"id\": *\"$id\""; }
wait_for 30 "node2's new incident at node1" has_id
digests_equal 1 2 || wait_for 30 "equal digests" digests_equal 1 2

# 2. a lost store: the key and its .used marker survive, the store does not
stop_node 2
[ -f "$data2/node.key.used" ] || fail "no node.key.used marker"
rm -f "$data2"/*.mdb
fm 2 incident report --category fire --lat 54 --lon 4 --desc "lost store" >/dev/null 2>"$T/err"
rc=$?
[ "$rc" -eq 3 ] || fail "a node with a lost store signed (exit $rc)"
grep -q "refusing to sign" "$T/err" || fail "no clear refusal: $(cat "$T/err")"
start_node 2
recovered() { fm 2 incident report --category fire --lat 55 --lon 4 --desc "recovered" >/dev/null 2>&1; }
wait_for 30 "node2 to recover its log and sign again" recovered
wait_for 30 "equal digests after recovery" digests_equal 1 2
grep -q "lost store" "$T/list1" && fail "the refused write appeared"
log "lost store: refused to sign until its log came back from node1"

stop_node 1
stop_node 2
FAILED=0
echo "PASS: test_fork"
