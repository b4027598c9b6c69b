#!/usr/bin/env bash
# test_scenario_two_consoles.sh — two consoles that work apart and swap
# their ops by bundle (no daemon). Both publish the directory before they
# ever meet: after the exchange each directory unit is one unit, offered
# once. Then the centre's clock runs two hours fast: a county acknowledges
# the centre's ticket "before" it was dispatched, and the report notes the
# disagreement exactly once — on stdout in a table, as the clock_note field
# in JSON, as a trailing "# note:" comment line in CSV, never on stderr.
. "$(dirname "$0")/wf_lib.sh"

expect 0 "$FIELDMESH" testbed "$T/tb" --nodes 2 --roles centre,admin \
    --base-port "${FM_PORT_BASE:-17600}"
C1=(-c "$T/tb/node1/node.yaml")
C2=(-c "$T/tb/node2/node.yaml")
fm2() { expect 0 "$FIELDMESH" "${C2[@]}" "$@"; }
# swap FROM TO: TO imports what FROM has and TO lacks
swap() {
    local from=("${@:1:2}") to=("${@:3:2}")
    expect 0 "$FIELDMESH" "${to[@]}" bundle vector "$T/vec"
    expect 0 "$FIELDMESH" "${from[@]}" bundle export "$T/bun" --for "$T/vec"
    expect 0 "$FIELDMESH" "${to[@]}" bundle import "$T/bun"
}
units_named() { python3 -c '
import json, sys
print(sum(1 for u in json.load(sys.stdin) if u["name"] == sys.argv[1]))' "$1"; }

# ---- concurrent publishes: one unit per directory unit ----
fm1 directory publish "$DIRECTORY"
fm2 directory publish "$DIRECTORY"
swap "${C1[@]}" "${C2[@]}"
swap "${C2[@]}" "${C1[@]}"
for c in C1 C2; do
    eval 'cfg=("${'$c'[@]}")'
    expect 0 "$FIELDMESH" "${cfg[@]}" unit list --json
    n=$(pyval 'len(d)')
    [ "$n" = 33 ] || fail "$c lists $n units after two publishes, expected 33"
    [ "$(printf '%s' "$OUT" | units_named "Hazmat R7")" = 1 ] || fail "$c: Hazmat R7 twice"
done
INC=$("$FIELDMESH" "${C1[@]}" incident report --category chemical_leak --lat 31.3 \
    --lon 121.55 2>/dev/null) || fail "report"
fm1 dispatch suggest "$INC" --json
pyjson 'len(set(u["name"] for u in d["units"])) == len(d["units"]) == 5'

# ---- a clock disagreement, noted once ----
expect 0 "$FIELDMESH" testbed "$T/tb2" --nodes 2 --roles centre,county \
    --base-port "${FM_PORT_BASE:-17600}"
C1=(-c "$T/tb2/node1/node.yaml")
C2=(-c "$T/tb2/node2/node.yaml")
fm1 directory publish "$DIRECTORY"
export FM_TEST_CLOCK_OFFSET_MS=7200000 # the centre runs two hours fast
INC=$("$FIELDMESH" "${C1[@]}" incident report --category chemical_leak --lat 31.3 \
    --lon 121.55 2>/dev/null) || fail "report"
P1=$(unit_by_name "Patrol R1")
fm1 dispatch "$INC" --unit "$P1"
TK=$OUT
unset FM_TEST_CLOCK_OFFSET_MS
swap "${C1[@]}" "${C2[@]}"
fm2 ticket ack "$TK"
fm2 report
contains "$OUT" "note: " "table report"
contains "$OUT" "clocks disagreed" "table report"
lacks "$ERR" "clocks disagreed" "table report's stderr"
fm2 report --json
pyjson 'd["negative_intervals"] == 1 and "clocks disagreed" in d["clock_note"]'
lacks "$ERR" "clocks disagreed" "JSON report's stderr"
fm2 report --csv
[ "$(printf '%s\n' "$OUT" | grep -c 'clocks disagreed')" = 1 ] || fail "CSV note: $OUT"
printf '%s\n' "$OUT" | tail -1 | grep -q '^# note: ' || fail "CSV note is not a trailing comment"
lacks "$ERR" "clocks disagreed" "CSV report's stderr"
echo "PASS: test_scenario_two_consoles"
