#!/usr/bin/env bash
# test_scenario_orphans.sh — nothing stranded, across two live nodes
# (centre and county) running fieldmeshd.
#
# A close with a unit still out is refused (exit 1) and names the ticket
# and the way out; --cancel-tickets cancels it in the same write. An
# undispatched crowd incident is an orphan on both nodes and the daemons
# escalate it (crowds get a 3 s deadline here). Then a partition: the
# centre closes an incident (cancelling its ticket) while the cut-off
# county dispatches another unit to it and acknowledges the first ticket.
# After the heal both nodes hold the same digest and list the same
# orphans: the second unit stranded on the closed incident, the first one
# assigned with no ticket. `dispatch status` and `status` say so; the
# commands the list proposes empty it everywhere.
. "$(dirname "$0")/lib_gossip.sh"

: "${FM_SRC:?}"
py() { python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($1) else 1)"; }
pyv() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

testbed 2 line
sed 's/escalate_after_s: 300/escalate_after_s: 3/' "$FM_SRC/configs/directory.yaml" >"$T/dir.yaml"
grep -q "escalate_after_s: 3$" "$T/dir.yaml" || fail "directory copy"
for i in 1 2; do start_node "$i"; done
fm 1 directory publish "$T/dir.yaml" >/dev/null 2>&1 || fail "publish"
uid() { fm 1 unit list --json | pyv '[u["id"] for u in d if u["name"] == "'"$1"'"][0]'; }
PR1=$(uid "Patrol R1")
HR8=$(uid "Hazmat R8")

# ---- a close that would strand a unit ----
I1=$(fm 1 incident report --category chemical_leak --lat 31.3 --lon 121.55 2>/dev/null) || fail "report"
T1=$(fm 1 dispatch "$I1" --unit "$PR1") || fail "dispatch"
fm 1 incident status "$I1" resolved >/dev/null 2>"$T/err"
rc=$?
[ "$rc" -eq 1 ] || fail "close with an active ticket: exit $rc: $(cat "$T/err")"
grep -q "$T1  Patrol R1" "$T/err" || fail "refusal does not name the ticket: $(cat "$T/err")"
grep -q "incident status $I1 resolved --cancel-tickets" "$T/err" || fail "no way out: $(cat "$T/err")"
fm 1 incident show "$I1" --json | py 'd["status"] == "dispatched"' || fail "refused close changed the status"
fm 1 incident status "$I1" dispatched --cancel-tickets >/dev/null 2>&1
[ $? -eq 2 ] || fail "--cancel-tickets without resolved/closed is not a usage error"
OUT=$(fm 1 incident status "$I1" resolved --cancel-tickets --reason "caller withdrew") ||
    fail "close --cancel-tickets"
[ "$OUT" = "$I1: resolved (1 ticket(s) cancelled, their units available)" ] || fail "close: $OUT"
fm 1 ticket show "$T1" --json | py 'd["ticket"]["state"] == "cancelled"' || fail "ticket not cancelled"
fm 1 unit show "$PR1" --json | py 'd["status"] == "available"' || fail "unit not available"

# ---- an undispatched call: an orphan everywhere, escalated by the daemons ----
I2=$(fm 1 incident report --category crowd_gathering --priority 1 --lat 31.2268 --lon 121.4712 \
    2>/dev/null) || fail "report 2"
orphan_at_2() {
    fm 2 incident list --orphans --json |
        py '[(o["kind"], o["incident"]) for o in d] == [("undispatched", "'"$I2"'")]'
}
wait_for 60 "the orphan listed on node 2" orphan_at_2
escalated() { fm "$1" dispatch status "$I2" --json | py 'd["escalated_tier"] == 2'; }
wait_for 60 "the orphan escalated (node 1)" escalated 1
wait_for 60 "the escalation at node 2" escalated 2
fm 2 dispatch status "$I2" >"$T/ds.txt" || fail "dispatch status"
grep -q "^orphan:       undispatched since" "$T/ds.txt" || fail "dispatch status: $(cat "$T/ds.txt")"
fm 2 status >"$T/st.txt" || fail "status"
grep -q "warning:   incident $I2 (priority 1, crowd_gathering) has no unit out on it" "$T/st.txt" ||
    fail "status warning: $(cat "$T/st.txt")"
fm 1 incident status "$I2" closed >/dev/null || fail "closing the orphan"

# ---- a close and a dispatch on two sides of a partition ----
I3=$(fm 1 incident report --category chemical_leak --lat 31.3 --lon 121.55 2>/dev/null) || fail "report 3"
T3=$(fm 1 dispatch "$I3" --unit "$PR1") || fail "dispatch 3"
wait_for 60 "shared state on both nodes" digests_equal 1 2
log "partition: stopping node2's daemon"
stop_node 2
fm 1 incident status "$I3" closed --cancel-tickets >/dev/null || fail "side 1 close"
T4=$(fm 2 dispatch "$I3" --unit "$HR8") || fail "side 2 dispatch"
fm 2 ticket ack "$T3" >/dev/null || fail "side 2 ack"
fm 1 incident list --orphans --json | py 'd == []' || fail "orphans before the heal (side 1)"
fm 2 incident list --orphans --json | py 'd == []' || fail "orphans before the heal (side 2)"
log "heal: restarting node2"
start_node 2
wait_for 60 "convergence after the heal" digests_equal 1 2
fm 1 incident list --orphans --json >"$T/o1.json"
fm 2 incident list --orphans --json >"$T/o2.json"
cmp -s "$T/o1.json" "$T/o2.json" || fail "the nodes list different orphans"
py '[(o["kind"], o["incident"], o["ticket"], o["unit"]) for o in d] == [("stranded_ticket", "'"$I3"'", "'"$T4"'", "'"$HR8"'"), ("busy_unit", "", "", "'"$PR1"'")]' <"$T/o1.json" ||
    fail "orphans after the heal: $(cat "$T/o1.json")"
fm 2 incident show "$I3" --json | py 'd["status"] == "closed"' || fail "the close did not stand"
fm 2 dispatch status "$I3" >"$T/ds.txt"
grep -q "^orphan:       stranded_ticket since .*Hazmat R8 still out on a closed incident: fieldmesh ticket cancel $T4" "$T/ds.txt" ||
    fail "dispatch status after the heal: $(cat "$T/ds.txt")"
fm 1 incident list --orphans >"$T/ol.txt"
grep -q "busy_unit *Patrol R1" "$T/ol.txt" || fail "orphan table: $(cat "$T/ol.txt")"
I3CODE=$(fm 1 incident show "$I3" --json | pyv 'd["code"]')
grep -q "stranded_ticket *$I3CODE " "$T/ol.txt" || fail "orphan table shows no code: $(cat "$T/ol.txt")"
py 'd[0]["incident_code"] == "'"$I3CODE"'"' <"$T/o1.json" || fail "orphan JSON incident_code"
# the fixes the list names empty it on every node
fm 1 ticket cancel "$T4" --reason "incident was closed" >/dev/null || fail "cancel"
fm 1 unit status "$PR1" available >/dev/null || fail "unit status"
empty_at_2() { fm 2 incident list --orphans --json | py 'd == []'; }
wait_for 60 "an empty orphan list at node 2" empty_at_2
FAILED=0
echo "ok: orphans"
