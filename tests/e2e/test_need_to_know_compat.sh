#!/usr/bin/env bash
# test_need_to_know_compat.sh — a store written before the dispatchers' key
# (tests/fixtures/store_before_need_to_know) still opens with this build:
# its incident keeps the caller's number written in clear by the older
# writer, its digest and log read, and once the org publishes a dispatcher
# key the same node seals new callers.
set -u
. "$(dirname "$0")/cli_lib.sh"

cp -r "$FM_SRC/tests/fixtures/store_before_need_to_know" "$T/old"
chmod 700 "$T/old/node1" "$T/old/node1/data" "$T/old/org"
chmod 600 "$T/old/node1/passphrase" "$T/old/node1/data/"{data.key,node.key} "$T/old/org/root.key"
C=(-c "$T/old/node1/node.yaml")

expect 0 "$FIELDMESH" "${C[@]}" incident show gjx75fo2-2 --json
pyjson 'd["caller"] == "5550123" and d["caller_sealed"] is False and d["caller_name"] == ""'
pyjson 'd["description"] == "old store" and len(d["timeline"]) == 2'
expect 0 "$FIELDMESH" "${C[@]}" digest
expect 0 "$FIELDMESH" "${C[@]}" log
contains "$OUT" "caller 5550123"

# the org publishes a dispatcher key; this centre seals new callers
expect 0 "$FIELDMESH" org dispatch-key --org "$T/old/org" --out "$T/dk"
contains "$ERR" "dispatcher key 1 made, sealed to 1 dispatcher node"
expect 0 "$FIELDMESH" "${C[@]}" trust publish "$T/dk"
expect 0 "$FIELDMESH" "${C[@]}" incident report --category flood --lat 3 --lon 4 \
    --caller 5550999 --caller-name "New Caller"
ID=$OUT
lacks "$ERR" "NOT recorded"
expect 0 "$FIELDMESH" "${C[@]}" incident show "$ID" --json
pyjson 'd["caller"] == "5550999" and d["caller_name"] == "New Caller"'
expect 0 "$FIELDMESH" "${C[@]}" log
contains "$OUT" "caller (sealed)"
lacks "$OUT" "5550999"
# the old incident is unchanged
expect 0 "$FIELDMESH" "${C[@]}" incident show gjx75fo2-2 --json
pyjson 'd["caller"] == "5550123"'
echo "PASS"
