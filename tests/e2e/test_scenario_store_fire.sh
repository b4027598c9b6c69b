#!/usr/bin/env bash
# test_scenario_store_fire.sh — a fire in a department store in the city
# centre, end to end through the CLI. Priority 1 brings tier 2 in at once,
# so the proposal holds fire engines and the ladder (tier 1) and the power
# and gas companies (tier 2) but not the environment bureau (tier 3). One
# engine breaks down and its ticket is reassigned to another engine; the
# ambulance is cancelled; the rest clear. The report shows the cancelled
# share, the satisfaction, and per-unit rows; conflicts stay empty.
. "$(dirname "$0")/wf_lib.sh"

wf_setup 1

expect 0 "$FIELDMESH" "${C1[@]}" incident report --category building_fire --lat 31.2302 \
    --lon 121.4751 --address "No. 1 Department Store, Nanjing Road" --priority 1 \
    --desc "smoke on floors 3-5, people trapped"
INC=$OUT
contains "$ERR" "tiers 1-2"
contains "$ERR" "City Power Supply"
contains "$ERR" "City Gas Company"
lacks "$ERR" "Environment Bureau"

fm1 dispatch suggest "$INC" --json
pyjson 'd["max_tier"] == 2 and d["priority"] == 1'
pyjson 'd["departments"] == ["Central Fire Brigade", "City Emergency Medical Centre", "City Power Supply", "City Gas Company"]'
# the scarce need first: the only ladder is not spent on "any fire engine"
pyjson '[u["name"] for u in d["units"]] == ["Ladder C5", "Ambulance M1", "Engine C1", "Engine C2", "Power Crew P1", "Gas Crew G1"]'
pyjson '[u["tier"] for u in d["units"]] == [1, 1, 1, 1, 2, 2]'
pyjson 'd["gaps"] == []'
UNITS=$(pyval '" ".join(u["unit"] for u in d["units"])')
args=()
for u in $UNITS; do args+=(--unit "$u"); done
fm1 dispatch "$INC" "${args[@]}"
mapfile -t TK <<<"$OUT"
[ "${#TK[@]}" -eq 6 ] || fail "expected 6 tickets"

# Engine C2 breaks down on the way: reassigned to Engine H1
H1=$(unit_by_name "Engine H1")
C2=$(unit_by_name "Engine C2")
fm1 ticket ack "${TK[3]}"
fm1 ticket enroute "${TK[3]}"
fm1 ticket reassign "${TK[3]}" --unit "$H1" --reason "pump failure"
NEW=$OUT
fm1 ticket show "$NEW" --json
pyjson 'd["ticket"]["replaces"] == "'"${TK[3]}"'" and d["ticket"]["state"] == "dispatched"'
fm1 ticket show "${TK[3]}" --json
pyjson 'd["ticket"]["state"] == "reassigned" and d["ticket"]["reason"] == "pump failure"'
fm1 unit show "$C2" --json
pyjson 'd["status"] == "available"'
expect 1 "$FIELDMESH" "${C1[@]}" ticket reassign "${TK[3]}" --unit "$C2"   # closed already

# the ambulance is not needed
fm1 ticket cancel "${TK[1]}" --reason "no casualties"
expect 1 "$FIELDMESH" "${C1[@]}" ticket arrive "${TK[1]}"

# everyone else: ack, en route, on scene, clear
for t in "${TK[0]}" "${TK[2]}" "$NEW" "${TK[4]}" "${TK[5]}"; do
    fm1 ticket ack "$t"
    fm1 ticket enroute "$t"
    fm1 ticket arrive "$t"
done
fm1 dispatch status "$INC" --json
pyjson 'd["coordinator"]["ticket"] == "'"${TK[3]}"'"'   # Engine C2 acknowledged first
for t in "${TK[0]}" "${TK[2]}" "$NEW"; do fm1 ticket clear "$t" --result "fire extinguished"; done
fm1 ticket clear "${TK[4]}" --result "power isolated, restored at 18:00"
fm1 ticket clear "${TK[5]}" --result "gas main shut"
fm1 ticket list --incident "$INC" --json
pyjson 'sorted(t["state"] for t in d) == ["cancelled", "cleared", "cleared", "cleared", "cleared", "cleared", "reassigned"]'
fm1 ticket list --active --json
pyjson 'd == []'
fm1 conflicts --json
pyjson 'd == []'
fm1 incident feedback "$INC" --score 5
fm1 incident feedback "$INC" --score 3 --comment "traffic chaos around the store"

fm1 report --json
pyjson 'd["tickets"] == 7'
g='d["groups"][0]'
pyjson "abs($g[\"cleared_share\"] - 5/7) < 1e-3 and abs($g[\"cancelled_share\"] - 2/7) < 1e-3"
pyjson "$g[\"satisfaction\"] == 4.0 and $g[\"feedback_count\"] == 2"
pyjson "$g[\"intervals\"][\"dispatch_to_ack\"][\"n\"] == 6 and $g[\"response\"][\"n\"] == 5"
pyjson "$g[\"intervals\"][\"dispatch_to_ack\"][\"median_s\"] <= $g[\"intervals\"][\"dispatch_to_ack\"][\"p90_s\"]"
fm1 report --by unit --json
pyjson 'sorted(g["group"] for g in d["groups"]) == sorted(["Engine C1", "Ladder C5", "Engine C2", "Engine H1", "Ambulance M1", "Power Crew P1", "Gas Crew G1"])'
pyjson '[g["cancelled_share"] for g in d["groups"] if g["group"] == "Ambulance M1"] == [1.0]'
pyjson '[g["intervals"]["dispatch_to_ack"]["n"] for g in d["groups"] if g["group"] == "Engine H1"] == [1]'
fm1 report --by department
contains "$OUT" "City Gas Company"
contains "$OUT" "City Power Supply"
echo "ok: department-store fire scenario"
