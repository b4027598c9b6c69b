#!/usr/bin/env bash
# test_roles.sh — the role rules through the real CLI on a live mesh: a
# station may not change another node's incident (priority, address,
# status) nor a depot's stock it did not add, a vehicle keeps no stock;
# each refusal exits 3 naming the roles that may, writes nothing, and the
# three nodes converge on the state without it. On its own incident and
# stock the station may, and on stock kept at the depot named after its
# unit (its certificate's); the centre may on anything.
. "$(dirname "$0")/lib_gossip.sh"

py() { python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($1) else 1)"; }

# expect3 NODE ARGS...: exit 3 and the roles named on stderr
expect3() {
    local i=$1 rc
    shift
    fm "$i" "$@" >"$T/out" 2>"$T/err"
    rc=$?
    [ "$rc" -eq 3 ] || fail "node$i $* exited $rc, want 3: $(cat "$T/err")"
    grep -q "only " "$T/err" && grep -q "(this node is " "$T/err" ||
        fail "node$i $*: no role in the message: $(cat "$T/err")"
}

pick_ports 3
"$FIELDMESH" testbed "$T/tb" --nodes 3 --topology mesh --base-port "$BASE" \
    --roles centre,station,vehicle >/dev/null 2>"$T/testbed.err" || fail "testbed failed"
# the station's certificate names its unit, "Station 5"
"$FIELDMESH" org enroll --org "$T/tb/org" --key "$(node_key 2)" --name node2 --role station \
    --unit "Station 5" --out "$T/s2.cert" >/dev/null 2>"$T/err" || fail "enroll: $(cat "$T/err")"
fm 2 trust renew "$T/s2.cert" >/dev/null 2>"$T/err" || fail "renew: $(cat "$T/err")"
for i in 1 2 3; do start_node "$i"; done

INC=$(fm 1 incident report --category fire --lat 31.23 --lon 121.47 --priority 3 \
    --address "No. 1 Department Store" 2>/dev/null) || fail "report"
RES=$(fm 1 resource add pump --depot "Central depot" --qty 10) || fail "resource add"
URES=$(fm 1 resource add pump --depot "Station 5" --qty 10) || fail "resource add at the station"
wait_for 30 "the incident at the station" fm 2 incident show "$INC"
# bad arguments to the new edit command: exit 2, before any role check
for bad in "" "--priority 9" "--lat 1" "--category Bad!" "--lon 1 --lat 91"; do
    # shellcheck disable=SC2086
    fm 2 incident edit "$INC" $bad >/dev/null 2>"$T/err"
    [ $? -eq 2 ] || fail "incident edit $bad: want exit 2: $(cat "$T/err")"
done
fm 2 incident edit --help | grep -q "usage: fieldmesh \[-c CONF\] incident edit" || fail "edit --help"
wait_for 30 "the stock at the station" digests_equal 1 2 3
ops_before=$(fm 2 log --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')

# ---- a station on the centre's incident and stock: exit 3, nothing written ----
expect3 2 incident edit "$INC" --priority 1 --address "Elsewhere 9"
grep -q "only centre, county and admin nodes, or the node that reported it" "$T/err" ||
    fail "edit message: $(cat "$T/err")"
grep -q "(this node is station)" "$T/err" || fail "edit message: $(cat "$T/err")"
expect3 2 incident status "$INC" closed
grep -q "change an incident's status" "$T/err" || fail "status message: $(cat "$T/err")"
expect3 2 incident status "$INC" resolved
expect3 2 resource restock "$RES" 999999999990
grep -q "centre and county nodes, the node that added it or its depot's unit" "$T/err" ||
    fail "restock message: $(cat "$T/err")"
expect3 2 resource consume "$RES" 5
ops_after=$(fm 2 log --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$ops_before" = "$ops_after" ] || fail "refused writes left ops: $ops_before -> $ops_after"

# ---- a vehicle keeps no stock and edits no one's incident ----
expect3 3 resource add pump --depot "Engine 1" --qty 1000000000000
grep -q "centre, county, admin and station nodes keep depots" "$T/err" ||
    fail "vehicle add message: $(cat "$T/err")"
expect3 3 incident edit "$INC" --priority 5
# the workflow kinds name who may as well
expect3 3 bulletin send --to all "road closed"
grep -q "centre, county, admin and station nodes send bulletins" "$T/err" ||
    fail "bulletin message: $(cat "$T/err")"
expect3 2 incident feedback "$INC" --score 4
grep -q "centre, county and admin nodes record feedback" "$T/err" ||
    fail "feedback message: $(cat "$T/err")"

# ---- its own incident and stock: the station may ----
OWN=$(fm 2 incident report --category fire --lat 31.2 --lon 121.4 --priority 4 2>/dev/null) ||
    fail "station report"
fm 2 incident edit "$OWN" --priority 2 --address "Gate 3" >/dev/null 2>"$T/err" ||
    fail "own edit: $(cat "$T/err")"
fm 2 incident status "$OWN" closed >/dev/null 2>"$T/err" || fail "own close: $(cat "$T/err")"
SRES=$(fm 2 resource add sandbag --depot "Station 5" --qty 50) || fail "station stock"
fm 2 resource restock "$SRES" 25 >/dev/null 2>"$T/err" || fail "own restock: $(cat "$T/err")"
fm 2 resource consume "$URES" 4 >/dev/null 2>"$T/err" || fail "unit's depot: $(cat "$T/err")"
# ---- the centre may on anything ----
fm 1 incident edit "$INC" --priority 2 >/dev/null 2>"$T/err" || fail "centre edit: $(cat "$T/err")"
fm 1 resource consume "$SRES" 5 >/dev/null 2>"$T/err" || fail "centre consume: $(cat "$T/err")"

wait_for 60 "the mesh to converge" digests_equal 1 2 3
for i in 1 3; do
    fm "$i" incident show "$INC" --json >"$T/inc.json" || fail "show on node$i"
    py 'd["priority"] == 2 and d["status"] == "new" and d["address"] == "No. 1 Department Store"' \
        <"$T/inc.json" || fail "node$i incident: $(cat "$T/inc.json")"
    fm "$i" incident show "$OWN" --json >"$T/own.json" || fail "show own on node$i"
    py 'd["priority"] == 2 and d["status"] == "closed" and d["address"] == "Gate 3"' \
        <"$T/own.json" || fail "node$i own incident: $(cat "$T/own.json")"
    fm "$i" resource list --json >"$T/res.json" || fail "resources on node$i"
    py '{r["id"]: r["quantity"] for r in d} == {"'"$RES"'": 10, "'"$SRES"'": 70, "'"$URES"'": 6}' \
        <"$T/res.json" || fail "node$i stock: $(cat "$T/res.json")"
done

FAILED=0
echo "ok: roles enforced through the CLI, mesh converged"
