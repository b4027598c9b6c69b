#!/usr/bin/env bash
# test_scenario_dispatch_checks.sh — proposals and choices a busy night can
# trust, across two live nodes (centre and county) running fieldmeshd.
#
# The centre sends one of the two hazmat units a chemical leak needs; the
# county's proposal (once gossip brought the ticket) lists it as already
# out and proposes only the second one. A second, priority-1 leak next
# door marks the units its own proposal takes. A fire engine fits none of
# a chemical leak's needs: refused (exit 1, saying why) without --force,
# dispatched with it. A hazmat unit sent 45 km from its station is warned
# about.
. "$(dirname "$0")/lib_gossip.sh"

: "${FM_SRC:?}"
py() { python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($1) else 1)"; }
pyv() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

testbed 2 line
for i in 1 2; do start_node "$i"; done
fm 1 directory publish "$FM_SRC/configs/directory.yaml" >/dev/null 2>&1 || fail "publish"
uid() { fm 1 unit list --json | pyv '[u["id"] for u in d if u["name"] == "'"$1"'"][0]'; }
R7=$(uid "Hazmat R7")
R8=$(uid "Hazmat R8")
C1=$(uid "Engine C1")

I1=$(fm 1 incident report --category chemical_leak --priority 3 --lat 31.3 --lon 121.55 2>/dev/null) ||
    fail "report"
fm 1 dispatch suggest "$I1" --json | py '[u["name"] for u in d["units"] if u["capability"] == "hazmat"] == ["Hazmat R7", "Hazmat R8"]' ||
    fail "first proposal: $(fm 1 dispatch suggest "$I1" --json)"
T1=$(fm 1 dispatch "$I1" --unit "$R7") || fail "dispatch R7"
partial_at_2() {
    fm 2 dispatch suggest "$I1" --json >"$T/s2.json" 2>/dev/null &&
        py '[(a["name"], a["ticket"], a["counted"], a["capability"]) for a in d["assigned"]] == [("Hazmat R7", "'"$T1"'", True, "hazmat")]' <"$T/s2.json"
}
wait_for 60 "the ticket in node 2's proposal" partial_at_2
py '[u["name"] for u in d["units"] if u["capability"] == "hazmat"] == ["Hazmat R8"] and d["gaps"] == []' <"$T/s2.json" ||
    fail "proposal after a partial dispatch: $(cat "$T/s2.json")"
fm 2 dispatch suggest "$I1" >"$T/s2.txt" 2>&1 || fail "suggest text"
grep -q "already out: Hazmat R7 ($R7, ticket $T1) for fire/hazmat (tier 1)" "$T/s2.txt" ||
    fail "suggest text: $(cat "$T/s2.txt")"

# a priority-1 leak next door: its units are marked in the first one's proposal
I2=$(fm 1 incident report --category chemical_leak --priority 1 --lat 31.3005 --lon 121.5505 2>/dev/null) ||
    fail "report 2"
fm 1 dispatch suggest "$I1" --json | py 'any(u["also_proposed_for"] == "'"$I2"'" for u in d["units"]) and all(u["also_proposed_for"] in (None, "'"$I2"'") for u in d["units"])' ||
    fail "no unit marked for the P1: $(fm 1 dispatch suggest "$I1" --json)"
fm 1 dispatch suggest "$I1" | grep -q "also proposed for P1 $I2" || fail "mark not in the table"

# a unit that fits no need: refused without --force, with the reason
fm 1 dispatch "$I1" --unit "$C1" >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" -eq 1 ] || fail "a mismatched dispatch: exit $rc: $(cat "$T/err")"
[ -s "$T/out" ] && fail "a refused dispatch printed a ticket"
grep -q "cannot dispatch Engine C1 ($C1) to $I1: it fits no need of the rule: it is fire with fire,rescue,water_supply; chemical_leak needs .*fire/hazmat" "$T/err" ||
    fail "refusal: $(cat "$T/err")"
grep -q "add --force" "$T/err" || fail "no way out: $(cat "$T/err")"
fm 1 ticket list --incident "$I1" --json | py 'len(d) == 1' || fail "something was dispatched"
T2=$(fm 1 dispatch "$I1" --unit "$C1" --force 2>"$T/err") || fail "--force: $(cat "$T/err")"
[ -n "$T2" ] || fail "no ticket with --force"
grep -q "warning: dispatching Engine C1 ($C1) with --force" "$T/err" || fail "force warning: $(cat "$T/err")"

# a reassignment is a dispatch too: to a unit that fits nothing, only with --force
fm 1 ticket reassign "$T1" --unit "Lift Team E1" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "reassign to a mismatched unit: not exit 1: $(cat "$T/err")"
grep -q "cannot dispatch Lift Team E1 (.*) to $I1: it fits no need of the rule: it is elevator_rescue" "$T/err" ||
    fail "reassign refusal: $(cat "$T/err")"
fm 1 ticket show "$T1" --json | py 'd["ticket"]["active"]' || fail "a refused reassignment closed the ticket"
fm 1 ticket reassign "$T1" --unit "Lift Team E1" --force >/dev/null 2>&1 || fail "reassign --force"

# far from home: dispatched, with a warning
I3=$(fm 1 incident report --category chemical_leak --lat 31.6 --lon 121.9 2>/dev/null) || fail "report 3"
fm 1 dispatch "$I3" --unit "$R8" >/dev/null 2>"$T/err" || fail "far dispatch: $(cat "$T/err")"
grep -q "warning: Hazmat R8 ($R8, county riverside) is [0-9.]* km from the incident (from its home station)" "$T/err" ||
    fail "far warning: $(cat "$T/err")"
FAILED=0
echo "ok: dispatch checks"
