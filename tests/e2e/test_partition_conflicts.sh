#!/usr/bin/env bash
# test_partition_conflicts.sh — conflicts that appear when a partition
# heals, across two nodes running fieldmeshd (centre and county).
#
# Before the partition both hold the directory, an incident, a ticket for
# Engine C1 and 10 units of foam. The county's daemon is stopped (the link
# is cut) and both sides keep working: each dispatches Patrol C1 to a
# different incident; the centre clears the Engine C1 ticket while the
# county reassigns it; both consume the same foam (7 + 6 of 10). After the
# heal both nodes have the same digest and list exactly the same
# conflicts: unit_double_booked, cleared_and_reassigned, stock_below_zero
# (quantity -3). A resolution made on one node shows on the other; a
# dispatcher's fix (cancelling one ticket) clears the double booking
# everywhere. Deciding that the clear stands (`--keep cleared`, op format
# 5) makes the ticket read cleared on both nodes and in the report, and the
# table says who decided what and why; a decision that does not fit the
# conflict is a usage error.
. "$(dirname "$0")/lib_gossip.sh"

: "${FM_SRC:?}"
py() { python3 -c "import json,sys
def cleared(r): return sum(round((g.get('cleared_share') or 0) * g['tickets']) for g in r['groups'])
d=json.load(sys.stdin); sys.exit(0 if ($1) else 1)"; }
pyv() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

testbed 2 line
for i in 1 2; do start_node "$i"; done
fm 1 directory publish "$FM_SRC/configs/directory.yaml" >/dev/null 2>&1 || fail "publish"
uid() { fm 1 unit list --json | pyv '[u["id"] for u in d if u["name"] == "'"$1"'"][0]'; }
C1U=$(uid "Engine C1")
P1=$(uid "Patrol C1")
C2U=$(uid "Engine C2")
I1=$(fm 1 incident report --category building_fire --lat 31.23 --lon 121.47 2>/dev/null) || fail "report"
TA=$(fm 1 dispatch "$I1" --unit "$C1U") || fail "dispatch"
FOAM=$(fm 1 resource add foam --depot "Central depot" --qty 10) || fail "resource"
wait_for 30 "shared state on both nodes" digests_equal 1 2
log "partition: stopping node2's daemon"
stop_node 2

# ---- side 1 (centre, daemon up) ----
I2=$(fm 1 incident report --category crowd_gathering --lat 31.227 --lon 121.471 2>/dev/null) || fail "r1"
fm 1 dispatch "$I2" --unit "$P1" >/dev/null || fail "side 1 dispatch"
fm 1 ticket clear "$TA" --result "fire out" >/dev/null || fail "side 1 clear"
fm 1 resource consume "$FOAM" 7 >/dev/null || fail "side 1 consume"
# ---- side 2 (county, cut off; the CLI works without its daemon) ----
I3=$(fm 2 incident report --category crowd_gathering --lat 31.300 --lon 121.550 2>/dev/null) || fail "r2"
fm 2 dispatch "$I3" --unit "$P1" >/dev/null || fail "side 2 dispatch"
fm 2 ticket reassign "$TA" --unit "$C2U" --reason "C1 stuck in traffic" >/dev/null || fail "side 2 reassign"
fm 2 resource consume "$FOAM" 6 >/dev/null || fail "side 2 consume"
fm 1 conflicts --json | py 'd == []' || fail "conflicts before the heal (side 1)"
fm 2 conflicts --json | py 'd == []' || fail "conflicts before the heal (side 2)"

log "heal: restarting node2"
start_node 2
wait_for 60 "convergence after the heal" digests_equal 1 2
fm 1 conflicts --json >"$T/c1.json"
fm 2 conflicts --json >"$T/c2.json"
cmp -s "$T/c1.json" "$T/c2.json" || fail "the nodes list different conflicts"
py '[c["kind"] for c in d] == ["cleared_and_reassigned", "unit_double_booked", "stock_below_zero"]' <"$T/c1.json" ||
    fail "conflicts: $(cat "$T/c1.json")"
py '[c["id"] for c in d] == ["clear-reassign:'"$TA"'", "double:'"$P1"'", "stock:'"$FOAM"'"]' <"$T/c1.json" ||
    fail "conflict ids: $(cat "$T/c1.json")"
py '"quantity -3" in d[2]["detail"] and not any(c["resolved"] for c in d)' <"$T/c1.json" ||
    fail "stock detail: $(cat "$T/c1.json")"
fm 1 resource list --json | py '[r["quantity"] for r in d] == [-3]' || fail "stock did not add up"

# a resolution on one node shows on the other
fm 2 conflicts resolve "stock:$FOAM" --note "20 more ordered from the port depot" >/dev/null ||
    fail "resolve"
fm 2 conflicts resolve "stock:$FOAM" >/dev/null 2>&1 && fail "resolved twice"
fm 2 conflicts resolve "nonsense" >/dev/null 2>&1; [ $? -eq 1 ] || fail "unknown conflict id"
resolved_at_1() { fm 1 conflicts --all --json | py 'd[2]["resolved"] and d[2]["resolution"].startswith("20 more")'; }
wait_for 30 "the resolution at node 1" resolved_at_1
fm 1 conflicts --json | py 'len(d) == 2' || fail "resolved conflict still open"
# a dispatcher's fix clears the double booking everywhere
T3=$(fm 2 ticket list --incident "$I3" --json | pyv 'd[0]["id"]')
fm 1 ticket cancel "$T3" --reason "P1 stays at the property site" >/dev/null || fail "cancel"
wait_for 30 "convergence" digests_equal 1 2
fm 2 conflicts --json | py '[c["kind"] for c in d] == ["cleared_and_reassigned"]' ||
    fail "after the fix: $(fm 2 conflicts --json)"
fm 1 conflicts --json >"$T/c1.json"
fm 2 conflicts --json >"$T/c2.json"
cmp -s "$T/c1.json" "$T/c2.json" || fail "lists differ after the fix"

# deciding which fact stands: the clear, not the reassignment
state_of() { fm "$1" ticket show "$TA" --json | pyv 'd["ticket"]["state"]'; }
[ "$(state_of 1)" = reassigned ] || fail "before the decision: $(state_of 1)"
fm 1 report --by unit --json | py 'cleared(d) == 0' ||
    fail "report before the decision: $(fm 1 report --by unit --json)"
fm 2 conflicts resolve "clear-reassign:$TA" --keep cancelled >/dev/null 2>&1
[ $? -eq 2 ] || fail "--keep cancelled on a clear-reassign conflict is not a usage error"
fm 2 conflicts resolve "stock:$FOAM" --keep cleared >/dev/null 2>&1
[ $? -eq 2 ] || fail "a decision on a stock conflict is not a usage error"
fm 2 conflicts resolve "clear-reassign:$TA" --keep cleared --note "C1 reached the fire first" \
    >/dev/null || fail "decide"
decided_at_1() { [ "$(state_of 1)" = cleared ]; }
wait_for 30 "the decision at node 1" decided_at_1
fm 1 report --by unit --json | py 'cleared(d) == 1' ||
    fail "report after the decision: $(fm 1 report --by unit --json)"
fm 1 conflicts --all --json | py 'd[0]["decided"] == "the clear stands" and d[0]["resolved_by_name"] != ""' ||
    fail "decision not shown: $(fm 1 conflicts --all --json)"
NAME2=$(fm 1 conflicts --all --json | pyv 'd[0]["resolved_by_name"]')
fm 1 conflicts --all | grep -q "resolved by $NAME2.*decided: the clear stands; note: C1 reached the fire first" ||
    fail "table: $(fm 1 conflicts --all)"
wait_for 30 "convergence" digests_equal 1 2
FAILED=0
echo "ok: partition conflicts"
