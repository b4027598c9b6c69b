#!/usr/bin/env bash
# test_scenario_crowd.sh — a crowd gathering at a property development
# site, across three live nodes (centre, county, vehicle) running
# fieldmeshd. The county reports and dispatches police (public order and
# patrol) and urban management; the public-order vehicle acknowledges from
# its own node (its certificate, renewed with `--unit`, names the unit;
# recorded as the unit's own step, not on its behalf) and may not
# acknowledge another unit's ticket; the
# other two tickets go unacknowledged past the rule's deadline, so the
# dispatching county's daemon raises an escalation that brings in tier 2
# (traffic police) — raised once however many dispatchers see it; a
# vehicle may not dispatch; a bulletin to all collects read receipts from
# the other nodes; the final report is the same on every node.
. "$(dirname "$0")/lib_gossip.sh"

: "${FM_SRC:?}"
py() { python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($1) else 1)"; }
pyv() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

pick_ports 3
"$FIELDMESH" testbed "$T/tb" --nodes 3 --topology mesh --base-port "$BASE" \
    --roles centre,county,vehicle >/dev/null 2>"$T/testbed.err" || fail "testbed failed"
# the example directory, with a short acknowledgement deadline for crowds
sed 's/escalate_after_s: 300/escalate_after_s: 3/' "$FM_SRC/configs/directory.yaml" >"$T/dir.yaml"
grep -q "escalate_after_s: 3$" "$T/dir.yaml" || fail "directory copy"
# the vehicle is the public-order team's: its certificate names the unit
# (a station or vehicle reports ticket steps only for its own unit)
"$FIELDMESH" org enroll --org "$T/tb/org" --key "$(node_key 3)" --name node3 --role vehicle \
    --unit "Public Order C9" --out "$T/v3.cert" >/dev/null 2>"$T/err" ||
    fail "enroll: $(cat "$T/err")"
fm 3 trust renew "$T/v3.cert" >/dev/null 2>"$T/err" || fail "renew: $(cat "$T/err")"
for i in 1 2 3; do start_node "$i"; done
fm 1 directory publish "$T/dir.yaml" >/dev/null 2>&1 || fail "publish"
fm 3 directory publish "$T/dir.yaml" >/dev/null 2>"$T/err" && fail "a vehicle published the directory"
grep -q "only admin and centre" "$T/err" || fail "vehicle publish: $(cat "$T/err")"
wait_for 30 "directory on all nodes" digests_equal 1 2 3

INC=$(fm 2 incident report --category crowd_gathering --lat 31.2268 --lon 121.4712 \
    --address "Lane 5 property site" --desc "about 200 buyers protesting" 2>"$T/report.err") ||
    fail "report"
grep -q "Public Order C9" "$T/report.err" || fail "proposal: $(cat "$T/report.err")"
grep -q "Inspection U1" "$T/report.err" || fail "proposal lacks urban management"
fm 2 dispatch suggest "$INC" --json >"$T/s.json"
py 'd["max_tier"] == 1 and [u["name"] for u in d["units"]] == ["Public Order C9", "Inspection U1", "Patrol C1"]' <"$T/s.json" ||
    fail "suggestion: $(cat "$T/s.json")"
args=$(pyv '" ".join("--unit " + u["unit"] for u in d["units"])' <"$T/s.json")
# shellcheck disable=SC2086
TICKETS=$(fm 2 dispatch "$INC" $args) || fail "dispatch"
T1=$(echo "$TICKETS" | sed -n 1p)
[ "$(echo "$TICKETS" | wc -l)" -eq 3 ] || fail "tickets: $TICKETS"

# a vehicle may not dispatch (exit 3: a role refusal). The incident was
# reported on node 2: wait until gossip brought it to node 3, or the CLI
# answers "no incident matches" (exit 1) and the role is never checked.
wait_for 30 "the incident at the vehicle" fm 3 incident show "$INC"
fm 3 dispatch "$INC" --unit "$(pyv 'd["units"][2]["unit"]' <"$T/s.json")" >/dev/null 2>"$T/err"
rc=$?
[ "$rc" -eq 3 ] || fail "a vehicle dispatch was not refused with exit 3 (exit $rc): $(cat "$T/err")"
grep -q "cannot dispatch: only centre and county nodes dispatch (this node is vehicle)" "$T/err" ||
    fail "vehicle dispatch refusal: $(cat "$T/err")"

# the public-order vehicle acknowledges from its own node (not another's)
wait_for 30 "tickets at the vehicle" fm 3 ticket show "$T1"
T2=$(echo "$TICKETS" | sed -n 2p)
wait_for 30 "the inspection ticket at the vehicle" fm 3 ticket show "$T2"
fm 3 ticket ack "$T2" >/dev/null 2>"$T/err" && fail "the vehicle acknowledged another unit's ticket"
grep -q "unit Inspection U1 .*not that unit's own node" "$T/err" || fail "refusal: $(cat "$T/err")"
fm 3 ticket ack "$T1" >/dev/null || fail "vehicle ack"
fm 3 ticket enroute "$T1" >/dev/null || fail "vehicle enroute"
vkey=$(node_key 3)
check_ack() {
    fm 1 ticket show "$T1" --json | py 'd["ticket"]["acknowledged"]["by"] == "'"$vkey"'" and not d["ticket"]["acknowledged"]["on_behalf"] and d["ticket"]["state"] == "enroute" and d["ticket"]["ignored_steps"] == 0'
}
wait_for 30 "the vehicle's ack at the centre" check_ack

# nobody acknowledges the other two within 3 s: the county raises an
# escalation, the centre (after its grace period) sees it and adds nothing
escalated() { fm 1 dispatch status "$INC" --json | py 'd["escalated_tier"] == 2 and len(d["escalations"]) == 1'; }
wait_for 40 "an escalation to tier 2" escalated
sleep 6   # past every dispatcher's grace period
wait_for 30 "convergence after escalation" digests_equal 1 2 3
fm 1 dispatch status "$INC" --json >"$T/st.json"
py 'd["escalations"][0]["tier"] == 2 and d["escalations"][0]["raised"] >= 1' <"$T/st.json" ||
    fail "escalation: $(cat "$T/st.json")"
py 'd["coordinator"]["ticket"] == "'"$T1"'"' <"$T/st.json" || fail "coordinator"
fm 1 incident show "$INC" --json | py '"escalation" in [e["kind"] for e in d["timeline"]]' ||
    fail "no escalation on the timeline"
fm 1 dispatch suggest "$INC" --json | py 'd["max_tier"] == 2 and "Traffic Police Brigade" in d["departments"]' ||
    fail "tier 2 not in the proposal after escalation"

# a bulletin to everyone; each other node reads it; receipts come back
B=$(fm 1 bulletin send --to all "Crowd dispersing; keep Lane 5 closed to traffic") || fail "bulletin"
wait_for 30 "bulletin at nodes 2 and 3" sh -c "'$FIELDMESH' -c '$(conf 2)' bulletin list --no-receipts | grep -q '$B' && '$FIELDMESH' -c '$(conf 3)' bulletin list --no-receipts | grep -q '$B'"
fm 2 bulletin list >/dev/null || fail "list 2"
fm 3 bulletin list --json | py 'd[0]["for_me"] and d[0]["to"] == "all"' || fail "list 3"
receipts() { fm 1 bulletin receipts "$B" --json | py 'sorted(r["reader"] for r in d) == sorted(["'"$(node_key 2)"'", "'"$vkey"'"])'; }
wait_for 30 "read receipts back at the centre" receipts

# wrap up: the units report in; the report is the same everywhere
for t in $TICKETS; do
    fm 2 ticket arrive "$t" >/dev/null 2>&1
    fm 2 ticket clear "$t" --result "crowd dispersed after talks" >/dev/null || fail "clear $t"
done
fm 1 incident feedback "$INC" --score 3 --comment "took long" >/dev/null || fail "feedback"
wait_for 30 "convergence" digests_equal 1 2 3
fm 1 report --json >"$T/r1.json"
fm 3 report --json >"$T/r3.json"
cmp -s "$T/r1.json" "$T/r3.json" || fail "reports differ between nodes"
py 'd["tickets"] == 3 and d["groups"][0]["cleared_share"] == 1.0 and d["groups"][0]["escalated_share"] == 1.0 and d["groups"][0]["satisfaction"] == 3.0' <"$T/r1.json" ||
    fail "report: $(cat "$T/r1.json")"
fm 1 conflicts --json | py 'd == []' || fail "unexpected conflicts"
FAILED=0
echo "ok: crowd gathering scenario"
