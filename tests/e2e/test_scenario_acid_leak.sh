#!/usr/bin/env bash
# test_scenario_acid_leak.sh — an acid leak in the riverside industrial
# zone, end to end through the CLI: the report prints the proposed dispatch
# (environment, fire hazmat, medical, police) on stderr; `dispatch suggest
# --json` gives the nearest units with distance and position age; the units
# are dispatched, a unit that reports a live position moves up the list;
# each ticket runs ack -> en route -> on scene -> cleared (on the units'
# behalf, recorded as such); neutraliser is drawn from two depots, the
# unused part returned, then from the station nearest the leak (`resource
# list --for`, `allocate --from nearest`); feedback is recorded; the final
# report counts it all, per department and as CSV.
. "$(dirname "$0")/wf_lib.sh"

wf_setup 1

# ---- report: id alone on stdout, proposal on stderr ----
expect 0 "$FIELDMESH" "${C1[@]}" incident report --category chemical_leak --lat 31.3003 \
    --lon 121.5496 --address "Riverside chemical park, tank farm 3" --desc "hydrochloric acid leak"
INC=$OUT
[[ "$INC" =~ ^[a-z2-7]{8}-[0-9]+$ ]] || fail "incident report printed more than the id: $OUT"
contains "$ERR" "proposed dispatch for $INC"
contains "$ERR" "Environment Bureau"
contains "$ERR" "Riverside Fire Brigade"
contains "$ERR" "Hazmat R7"
lacks "$ERR" "City Water Group" "tier-1 proposal"
fm1 incident show "$INC" --json
pyjson 'd["priority"] == 1'   # the rule's default priority

# ---- the proposal as JSON ----
fm1 dispatch suggest "$INC" --json
pyjson 'd["has_rule"] and d["max_tier"] == 1'
pyjson '[u["name"] for u in d["units"]] == ["Env Monitor V1", "Hazmat R7", "Hazmat R8", "Ambulance M3", "Patrol R1"]'
pyjson 'all(set(u) >= {"unit","name","department","tier","distance_km","position_age_s"} for u in d["units"])'
pyjson 'all(u["position_age_s"] is None and u["position"] == "home" for u in d["units"])'
pyjson 'd["units"][1]["distance_km"] < d["units"][2]["distance_km"]'
pyjson 'd["units"][1]["department"] == "Riverside Fire Brigade" and d["units"][1]["tier"] == 1'

# a unit reporting a live position next to the leak moves up
R8=$(unit_by_name "Hazmat R8")
fm1 unit position "$R8" 31.3004 121.5497
fm1 dispatch suggest "$INC" --json
pyjson 'd["units"][1]["name"] == "Hazmat R8" and d["units"][1]["position"] == "reported"'
pyjson 'd["units"][1]["position_age_s"] is not None and 0 <= d["units"][1]["position_age_s"] < 60'
pyjson 'd["units"][1]["distance_km"] < 0.05'
UNITS=$(pyval '" ".join(u["unit"] for u in d["units"])')

# ---- dispatch: one ticket per unit, ids one per line ----
args=()
for u in $UNITS; do args+=(--unit "$u"); done
fm1 dispatch "$INC" "${args[@]}" --note "acid leak: full PPE"
TICKETS=$OUT
[ "$(echo "$TICKETS" | wc -l)" -eq 5 ] || fail "expected 5 ticket ids, got: $TICKETS"
expect 1 "$FIELDMESH" "${C1[@]}" dispatch "$INC" --unit "$R8"   # already busy
# the refusal names the unit (name and id) and the ticket it holds
contains "$ERR" "Hazmat R8"
contains "$ERR" "$R8"
contains "$ERR" "$(echo "$TICKETS" | sed -n 2p)"
expect 2 "$FIELDMESH" "${C1[@]}" dispatch "$INC"                # no --unit
fm1 incident show "$INC" --json
pyjson 'd["status"] == "dispatched"'
fm1 unit show "$R8" --json
pyjson 'd["status"] == "assigned"'

# ---- the timeline of each ticket ----
first=1
for t in $TICKETS; do
    fm1 ticket ack "$t"
    contains "$OUT" "acknowledged"
    if [ $first -eq 1 ]; then COORD_T=$t; first=0; fi
    fm1 ticket enroute "$t"
    fm1 ticket arrive "$t"
done
expect 1 "$FIELDMESH" "${C1[@]}" ticket ack "$COORD_T"          # steps only move forward
expect 2 "$FIELDMESH" "${C1[@]}" ticket clear "$COORD_T"        # --result is required
fm1 unit show "$R8" --json
pyjson 'd["status"] == "onscene"'
fm1 dispatch status "$INC" --json
pyjson 'd["coordinator"]["ticket"] == "'"$COORD_T"'" and d["status"] == "onscene"'

# ---- materials from two depots ----
expect 0 "$FIELDMESH" "${C1[@]}" resource add neutralizer --depot "Riverside depot" --qty 20
DA=$OUT
expect 0 "$FIELDMESH" "${C1[@]}" resource add neutralizer --depot "Port depot" --qty 15
DB=$OUT
fm1 resource request neutralizer 30 --for "$INC" --note "lime for 2 t of acid"
RQ=$OUT
expect 1 "$FIELDMESH" "${C1[@]}" resource allocate "$RQ" --from "$DA"   # 30 > 20 in stock
contains "$ERR" "cannot allocate 30 from $DA (neutralizer at Riverside depot): 20 on hand; take those with --partial (or --qty 20)"
expect 1 "$FIELDMESH" "${C1[@]}" resource allocate "$RQ" --from "$DA" --qty 31
contains "$ERR" "it lacks only 30"
expect 2 "$FIELDMESH" "${C1[@]}" resource return "$RQ" --to "$DA" --qty 1 --partial
fm1 resource allocate "$RQ" --from "$DA" --partial                       # the 20 it has
contains "$OUT" "allocated 20 from $DA"
contains "$ERR" "partly: $RQ still lacks 10"
fm1 resource list --json
pyjson '[r["quantity"] for r in d if r["id"] == "'"$DA"'"] == [0]'
expect 1 "$FIELDMESH" "${C1[@]}" resource allocate "$RQ" --from "$DA"
contains "$ERR" "nothing on hand (0)"
fm1 resource allocate "$RQ" --from "$DB"                                 # the 10 it lacks
contains "$OUT" "allocated 10 from $DB"
expect 1 "$FIELDMESH" "${C1[@]}" resource allocate "$RQ" --from "$DB" --qty 1  # nothing lacking
fm1 resource return "$RQ" --to "$DB" --qty 3
expect 1 "$FIELDMESH" "${C1[@]}" resource return "$RQ" --to "$DB" --qty 8    # only 7 left out
fm1 resource requests --json
pyjson 'd[0]["qty"] == 30 and d[0]["allocated"] == 30 and d[0]["returned"] == 3 and d[0]["consumed"] == 27'
fm1 resource list --json
pyjson 'sorted(r["quantity"] for r in d) == [0, 8]'
fm1 conflicts --json
pyjson 'd == []'

# ---- nearest stock first: stock kept at stations is at their home ----
# the example directory again, with a materials section (units of measure,
# a warehouse's place): format version 2, so publishing it needs --force
cp "$DIRECTORY" "$T/dir-materials.yaml"
printf '\nmaterials:\n  units:\n    foam: L\n    neutralizer: kg\n  depots:\n    - {name: City reserve warehouse, at: [31.2600, 121.5000]}\n' \
    >>"$T/dir-materials.yaml"
expect 1 "$FIELDMESH" "${C1[@]}" directory publish "$T/dir-materials.yaml"
fm1 directory publish "$T/dir-materials.yaml" --force
fm1 directory check "$T/dir-materials.yaml"
contains "$OUT$ERR" "units of measure for 2 material kinds, 1 depots placed"
expect 0 "$FIELDMESH" "${C1[@]}" resource add neutralizer --depot "Engine C1" --qty 5  # ~10 km
DC=$OUT
expect 0 "$FIELDMESH" "${C1[@]}" resource add neutralizer --depot "Hazmat R7" --qty 8  # ~0.9 km
DN=$OUT
expect 0 "$FIELDMESH" "${C1[@]}" resource add neutralizer --depot "City reserve warehouse" --qty 100
DW=$OUT   # placed by the directory's materials section, ~6.5 km
expect 0 "$FIELDMESH" "${C1[@]}" resource add foam --depot "Hazmat R8" --qty 50       # another kind
fm1 resource request neutralizer 6 --for "$INC" --note "second tank"
RQ2=$OUT
fm1 resource list --for "$RQ2" --json
pyjson '[r["id"] for r in d][:3] == ["'"$DN"'", "'"$DW"'", "'"$DC"'"]'   # placed, nearest first
pyjson '0.5 < d[0]["distance_km"] < 1.5 and 5 < d[1]["distance_km"] < 8 and 9 < d[2]["distance_km"] < 12'
pyjson 'all(r["kind"] == "neutralizer" and r["measure"] == "kg" for r in d) and len(d) == 5'
pyjson '[r["distance_km"] for r in d][3:] == [None, None]'    # depots the directory does not place
fm1 resource list --near "$INC"
contains "$OUT" "DIST"
contains "$OUT" "0.9 km"
contains "$OUT" "100 kg"     # the kind's unit of measure in the directory
fm1 resource list --kind neutralizer --json
pyjson 'len(d) == 5 and "distance_km" not in d[0]'
expect 2 "$FIELDMESH" "${C1[@]}" resource list --near "$INC" --for "$RQ2"
expect 2 "$FIELDMESH" "${C1[@]}" resource list --for "$RQ2" --kind foam
fm1 resource allocate "$RQ2" --from nearest
contains "$OUT" "allocated 6 from $DN"
contains "$ERR" "nearest with neutralizer on hand: $DN at Hazmat R7"
fm1 resource requests --json
pyjson 'all(r["measure"] == "kg" for r in d)'
fm1 resource requests
contains "$OUT" "6 kg"

# ---- clear, feedback ----
for t in $TICKETS; do
    fm1 ticket clear "$t" --result "leak contained, site handed to environment bureau"
    contains "$OUT" "cleared"
done
fm1 unit show "$R8" --json
pyjson 'd["status"] == "available"'
fm1 ticket show "$COORD_T" --json
pyjson '[e["step"] for e in d["history"]] == ["dispatch", "ack", "enroute", "arrive", "clear"]'
pyjson 'all(e["on_behalf"] for e in d["history"][1:])'
pyjson 'd["ticket"]["state"] == "cleared" and d["ticket"]["result"].startswith("leak contained")'
fm1 incident feedback "$INC" --score 4 --comment "fast and calm"
expect 2 "$FIELDMESH" "${C1[@]}" incident feedback "$INC" --score 6
fm1 incident status "$INC" resolved
fm1 incident show "$INC" --json
pyjson '[e["kind"] for e in d["timeline"]].count("dispatch") == 5'
pyjson '[e["kind"] for e in d["timeline"]].count("ticket") == 20'
pyjson '[e["kind"] for e in d["timeline"]].count("material") == 6'
pyjson '"feedback" in [e["kind"] for e in d["timeline"]]'

# ---- the final report ----
fm1 report --json
pyjson 'd["tickets"] == 5 and len(d["groups"]) == 1 and d["clock_note"] == ""'
pyjson 'd["groups"][0]["cleared_share"] == 1.0 and d["groups"][0]["cancelled_share"] == 0.0'
pyjson 'd["groups"][0]["escalated_share"] == 0.0 and d["groups"][0]["satisfaction"] == 4.0'
pyjson 'all(d["groups"][0]["intervals"][k]["n"] == 5 for k in d["groups"][0]["intervals"])'
pyjson 'd["groups"][0]["response"]["n"] == 5 and d["groups"][0]["within_target_share"] == 1.0'
pyjson 'd["groups"][0]["intervals"]["report_to_dispatch"]["median_s"] >= 0'
fm1 report --by department --json
pyjson 'sorted(g["group"] for g in d["groups"]) == ["City Emergency Medical Centre", "Environment Bureau", "Riverside Fire Brigade", "Riverside Police"]'
pyjson '[g["tickets"] for g in d["groups"] if g["group"] == "Riverside Fire Brigade"] == [2]'
fm1 report --by county --csv
contains "$OUT" "group,tickets,report_to_dispatch_median_s"
contains "$OUT" '"riverside",4'
contains "$OUT" '"central",1'
fm1 report --by category
contains "$OUT" "chemical_leak"
contains "$OUT" "PROCESSING"
# segments (NFPA 1221/1710), late cases, tiers, quarters, the CSV's BOM
fm1 report --json
pyjson 'all(d["groups"][0]["segments"][k]["n"] == 5 for k in ("processing", "turnout", "travel"))'
pyjson 'd["segment_targets_s"] == {"processing": 64, "turnout": 80, "travel": 240}'
pyjson 'd["groups"][0]["segments"]["turnout"]["within_target_share"] == 1.0 and d["late"] == []'
fm1 report --turnout-target 0 --travel-target 0 --processing-target 0 --json
pyjson 'all(s["within_target_share"] == 1.0 for s in d["groups"][0]["segments"].values())'
fm1 report --by tier --json
pyjson '[(g["group"], g["tickets"]) for g in d["groups"]] == [("tier 1", 4), ("tier 3", 1)]'
fm1 report --late
contains "$OUT" "no ticket over a target"
fm1 report --late --json
pyjson 'd["late"] == [] and d["late_more"] == 0'
Q=$(date -u +%Y)Q$(( ($(date -u +%-m) - 1) / 3 + 1 ))
fm1 report --quarter "$Q" --json
pyjson 'd["tickets"] == 5 and d["from"] is not None and d["to"] is not None'
fm1 report --quarter 2001Q1 --json
pyjson 'd["tickets"] == 0'
fm1 report --csv --bom
[ "$(printf '%s' "$OUT" | head -c 3 | od -An -tx1 | tr -d ' ')" = "efbbbf" ] || fail "--bom: no UTF-8 BOM"
contains "$OUT" "processing_n,processing_median_s,processing_p90_s,processing_within_target_share"
contains "$OUT" "# tickets: 5; duplicates: 0; negative_intervals: 0"
expect 2 "$FIELDMESH" "${C1[@]}" report --quarter 2026Q5
expect 2 "$FIELDMESH" "${C1[@]}" report --quarter 2026Q1 --from 2026-01-01
expect 2 "$FIELDMESH" "${C1[@]}" report --bom
expect 2 "$FIELDMESH" "${C1[@]}" report --turnout-target -1
fm1 report --from 2000-01-01 --to 2000-01-02 --json
pyjson 'd["tickets"] == 0'
expect 2 "$FIELDMESH" "${C1[@]}" report --by colour
expect 2 "$FIELDMESH" "${C1[@]}" report --json --csv
expect 2 "$FIELDMESH" "${C1[@]}" report --from yesterday
echo "ok: acid leak scenario"
