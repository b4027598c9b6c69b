# wf_lib.sh — helpers for the linkage-workflow scenario tests (sourced by
# tests/e2e/test_scenario_*.sh; not a test itself). Builds on cli_lib.sh:
# one centre node with the example directory published, and small
# accessors for JSON output.
. "$(dirname "$0")/cli_lib.sh"

: "${FM_SRC:?set FM_SRC to the source tree}"
DIRECTORY="$FM_SRC/configs/directory.yaml"

# wf_setup [ROLES]: a testbed with node1 (centre) and optionally more nodes;
# C1 holds "-c node1 config"; publishes the example directory.
wf_setup() {
    local n=${1:-1}
    shift || true
    expect 0 "$FIELDMESH" testbed "$T/tb" --nodes "$n" --base-port "${FM_PORT_BASE:-17600}" "$@"
    C1=(-c "$T/tb/node1/node.yaml")
    expect 0 "$FIELDMESH" "${C1[@]}" directory publish "${2:-$DIRECTORY}"
    contains "$ERR" "registered"
}

# fm1 ARGS: run on node1 and require exit 0.
fm1() { expect 0 "$FIELDMESH" "${C1[@]}" "$@"; }

# unit_by_name NAME: the unit entity id of a directory unit.
unit_by_name() {
    "$FIELDMESH" "${C1[@]}" unit list --json | python3 -c '
import json, sys
for u in json.load(sys.stdin):
    if u["name"] == sys.argv[1]:
        print(u["id"]); break
' "$1"
}

# jq-ish: pyval 'expr' evaluates against $OUT and prints it.
pyval() { pyget "$1"; }
