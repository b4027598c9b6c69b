#!/usr/bin/env bash
# test_scenario_merge.sh — one gas leak opened twice, folded into one
# incident on two sides of a partition (docs/workflow.md §3c), across two
# live nodes (centre and county) running fieldmeshd.
#
# The centre takes the first call (A); the county, once gossip brought it,
# opens a second incident (B) for the same leak and sends a crew to it,
# notes it, and records the public's feedback. Then the county's daemon
# stops (a partition: its CLI still writes to its own store): the centre
# merges B into A while the county merges A into B. Each side sees its own
# survivor. After the heal both nodes agree — equal digests, and the
# cycle ends at the earlier report, A: B's id shows A, A stands for two
# calls, B's crew, note and feedback count on A, B is listed as merged,
# and the report counts one incident and one duplicate. A third call
# linked at op format 3 counts as a call too. Refusals: a merged incident
# merged again, a node at op format 1, a vehicle.
. "$(dirname "$0")/lib_gossip.sh"

: "${FM_SRC:?}"
py() { python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($1) else 1)"; }
pyv() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

pick_ports 3
"$FIELDMESH" testbed "$T/tb" --nodes 3 --topology mesh --base-port "$BASE" \
    --roles centre,county,vehicle >/dev/null 2>"$T/testbed.err" || fail "testbed failed"
grep -q '^  op_format: 7$' "$(conf 1)" || fail "the testbed does not write op_format 7"
for i in 1 2 3; do start_node "$i"; done
fm 1 directory publish "$FM_SRC/configs/directory.yaml" >/dev/null 2>&1 || fail "publish"
A=$(fm 1 incident report --category gas_leak --lat 31.2 --lon 121.4 --address "Lane 5" 2>/dev/null) ||
    fail "first call"
wait_for 60 "the first call on node 2" fm 2 incident show "$A"
sleep 1 # the second report is stamped later than the first on every clock
B=$(fm 2 incident report --category gas_leak --lat 31.2005 --lon 121.4005 --address "Lane 5 no 3" \
    2>/dev/null) || fail "second call"
TK=$(fm 2 dispatch "$B" --unit "Gas Crew G1") || fail "dispatch to B"
fm 2 incident note "$B" "smell strongest at the back door" >/dev/null || fail "note on B"
fm 2 incident feedback "$B" --score 4 >/dev/null 2>"$T/err" || fail "feedback: $(cat "$T/err")"
wait_for 60 "B on node 1" digests_equal 1 2 3

# ---- apart: each side merges the other way ----
log "partition: stopping node2's daemon"
stop_node 2
OUT=$(fm 1 incident merge "$B" --into "$A" --reason "same leak" 2>"$T/err") ||
    fail "merge on node 1: $(cat "$T/err")"
[ "$OUT" = "$B: merged into $A, which now stands for 2 calls; its tickets, notes and feedback count there" ] ||
    fail "merge output: $OUT"
fm 2 incident merge "$A" --into "$B" >/dev/null 2>"$T/err" || fail "merge on node 2: $(cat "$T/err")"
fm 1 incident show "$B" --json 2>/dev/null | py 'd["id"] == "'"$A"'"' || fail "node 1 before the heal"
fm 2 incident show "$A" --json 2>/dev/null | py 'd["id"] == "'"$B"'"' || fail "node 2 before the heal"
# merged already: refused, naming where it went
fm 1 incident merge "$B" --into "$A" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "a second merge of B: not exit 1"
grep -q "$B is merged already, into $A" "$T/err" || fail "second merge: $(cat "$T/err")"

log "heal: starting node2's daemon"
start_node 2
wait_for 90 "convergence after the heal" digests_equal 1 2 3
for i in 1 2; do
    fm "$i" incident show "$B" --json 2>"$T/show.err" >"$T/show.json" || fail "show B on node $i"
    grep -q "^$B was merged into $A: showing $A$" "$T/show.err" || fail "node $i: $(cat "$T/show.err")"
    py 'd["id"] == "'"$A"'" and d["calls"] == 2 and d["merged"] == ["'"$B"'"] and d["merged_into"] is None' <"$T/show.json" ||
        fail "node $i: B does not show A with 2 calls: $(cat "$T/show.json")"
    py 'any("smell strongest" in e["text"] for e in d["timeline"])' <"$T/show.json" ||
        fail "node $i: B's note is not on A"
    fm "$i" ticket list --incident "$A" --json | py 'len(d) == 1 and d[0]["id"] == "'"$TK"'"' ||
        fail "node $i: B's crew is not on A: $(fm "$i" ticket list --incident "$A" --json)"
    fm "$i" incident list --json | py 'any(x["id"] == "'"$B"'" and x["merged_into"] == "'"$A"'" and x["calls"] == 0 for x in d)' ||
        fail "node $i: B is not listed as merged into A"
    fm "$i" incident list | grep "$B" | grep -q "merged into" || fail "node $i: the table does not say merged"
    fm "$i" dispatch status "$A" --json | py 'd["feedback_count"] == 1' ||
        fail "node $i: B's feedback is not on A: $(fm "$i" dispatch status "$A" --json)"
    fm "$i" report --json | py 'd["duplicates"] == 1 and d["tickets"] == 1' ||
        fail "node $i: report: $(fm "$i" report --json)"
done
# the crew reports progress on its ticket; it stays on A
fm 1 ticket ack "$TK" >/dev/null 2>&1 || fail "ack the merged incident's ticket"

# ---- a third call linked: at op format 3 a link is a merge too ----
C=$(fm 1 incident report --category gas_leak --lat 31.2001 --lon 121.4001 2>/dev/null) || fail "third call"
fm 1 incident link "$C" --to "$A" >/dev/null 2>"$T/err" || fail "link: $(cat "$T/err")"
fm 1 incident show "$A" --json | py 'd["calls"] == 3' || fail "the linked call is not counted"
wait_for 60 "the link on node 2" digests_equal 1 2

# ---- refusals ----
D=$(fm 1 incident report --category building_fire --lat 31.3 --lon 121.5 2>/dev/null) || fail "fourth call"
wait_for 60 "D on node 3" fm 3 incident show "$D"
fm 3 incident merge "$D" --into "$A" >/dev/null 2>"$T/err"
[ $? -eq 3 ] || fail "a vehicle's merge: not exit 3: $(cat "$T/err")"
fm 1 incident merge "$D" >/dev/null 2>&1
[ $? -eq 2 ] || fail "merge without --into: not a usage error"
sed -i 's/^  op_format: 7$/  op_format: 1/' "$(conf 1)"
fm 1 incident merge "$D" --into "$A" >/dev/null 2>"$T/err"
rc=$?; [ $rc -eq 78 ] || fail "merge at op format 1: exit $rc (want 78, a configuration error): $(cat "$T/err")"
grep -q "set node.op_format: 3" "$T/err" || fail "op format refusal: $(cat "$T/err")"
FAILED=0
echo "ok: incidents merged across a partition"
