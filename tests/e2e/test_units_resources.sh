#!/usr/bin/env bash
# test_units_resources.sh — units (register, status, position) and stock
# (add, consume, restock) through the real binary, with --json fields
# checked and the refusals each command documents.
set -u
. "$(dirname "$0")/cli_lib.sh"

make_testbed tb 1
N=(-c "$T/tb/node1/node.yaml")

# ---- units ----
expect 0 "$FIELDMESH" "${N[@]}" unit register --name "Engine 7-1" --department fire --tier 2 \
    --kind engine --capabilities water,ladder,hazmat,water
U1=$OUT
[[ "$U1" =~ ^[a-z2-7]{8}-[0-9]+$ ]] || fail "unit register printed more than an id: '$OUT'"
expect 0 "$FIELDMESH" "${N[@]}" unit register --name "Medic 3" --department ems --tier 1 --kind medical
U2=$OUT
# one unit per department and name: a second registration is refused and
# names the unit that exists; the same name in another department is fine
expect 1 "$FIELDMESH" "${N[@]}" unit register --name "Engine 7-1" --department fire --tier 1 \
    --kind engine
contains "$ERR" "already registered as $U1"
[ -z "$OUT" ] || fail "a refused unit register printed an id: '$OUT'"
expect 0 "$FIELDMESH" "${N[@]}" unit register --name "Engine 7-1" --department airport --tier 3 \
    --kind engine
U3=$OUT

expect 0 "$FIELDMESH" "${N[@]}" unit list --json
pyjson 'len(d) == 3'
pyjson 'all(set(u) >= {"id","name","department","tier","kind","capabilities","status","lat","lon","position_at","updated_at"} for u in d)'
pyjson '[u for u in d if u["id"] == "'"$U1"'"][0]["capabilities"] == ["hazmat", "ladder", "water"]'
pyjson '[u for u in d if u["id"] == "'"$U2"'"][0]["capabilities"] == []'
pyjson '[u for u in d if u["id"] == "'"$U1"'"][0]["tier"] == 2'
pyjson '[u for u in d if u["id"] == "'"$U1"'"][0]["name"] == "Engine 7-1"'
pyjson 'all(u["lat"] is None and u["lon"] is None and u["position_at"] is None for u in d)'
pyjson 'all(u["status"] == "available" for u in d)'

# negative coordinates need no "--"
expect 0 "$FIELDMESH" "${N[@]}" unit position "$U1" -33.9249 -18.4241
expect 0 "$FIELDMESH" "${N[@]}" unit status "$U1" assigned
expect 0 "$FIELDMESH" "${N[@]}" unit show "$U1" --json
pyjson 'd["lat"] == -33.9249 and d["lon"] == -18.4241'
pyjson 'd["status"] == "assigned" and d["position_at"] is not None'
expect 0 "$FIELDMESH" "${N[@]}" unit show "$U1"
contains "$OUT" "Engine 7-1"
contains "$OUT" "-33.9249,-18.4241"
expect 0 "$FIELDMESH" "${N[@]}" unit list
[ "$(printf '%s\n' "$OUT" | wc -l)" = 4 ] || fail "unit table should have 4 lines"
contains "$OUT" "Medic 3"

expect 2 "$FIELDMESH" "${N[@]}" unit status "$U1" sleeping
expect 2 "$FIELDMESH" "${N[@]}" unit position "$U1" -91 0
expect 2 "$FIELDMESH" "${N[@]}" unit register --name x --department y --tier 0 --kind k
expect 2 "$FIELDMESH" "${N[@]}" unit register --name x --department y --tier 1 --kind "Big Truck"
expect 1 "$FIELDMESH" "${N[@]}" unit status zzzzzzzz-1 available
contains "$ERR" "no unit matches"
# an incident id is not a unit id
expect 0 "$FIELDMESH" "${N[@]}" incident report --category fire --lat 1 --lon 1
expect 1 "$FIELDMESH" "${N[@]}" unit show "$OUT"

# ---- resources ----
expect 0 "$FIELDMESH" "${N[@]}" resource add sandbag --depot "North depot" --qty 500
R1=$OUT
[[ "$R1" =~ ^[a-z2-7]{8}-[0-9]+$ ]] || fail "resource add printed more than an id: '$OUT'"
expect 0 "$FIELDMESH" "${N[@]}" resource add pump --depot "Harbour" --qty 0
R2=$OUT
expect 0 "$FIELDMESH" "${N[@]}" resource consume "$R1" 120
expect 0 "$FIELDMESH" "${N[@]}" resource restock "$R1" 20
expect 0 "$FIELDMESH" "${N[@]}" resource restock "$R2" 3
expect 0 "$FIELDMESH" "${N[@]}" resource list --json
pyjson 'len(d) == 2'
pyjson 'all(set(r) >= {"id","kind","depot","quantity","oversold","updated_at"} for r in d)'
pyjson '[r for r in d if r["id"] == "'"$R1"'"][0]["quantity"] == 400'
pyjson '[r for r in d if r["id"] == "'"$R1"'"][0]["kind"] == "sandbag"'
pyjson '[r for r in d if r["id"] == "'"$R1"'"][0]["depot"] == "North depot"'
pyjson '[r for r in d if r["id"] == "'"$R2"'"][0]["quantity"] == 3'
pyjson 'all(r["oversold"] is False for r in d)'

# consuming more than this node sees in stock is refused (exit 1), and changes nothing
expect 1 "$FIELDMESH" "${N[@]}" resource consume "$R1" 401
contains "$ERR" "400"
expect 0 "$FIELDMESH" "${N[@]}" resource consume "$R1" 400
expect 0 "$FIELDMESH" "${N[@]}" resource list --json
pyjson '[r for r in d if r["id"] == "'"$R1"'"][0]["quantity"] == 0'
expect 0 "$FIELDMESH" "${N[@]}" resource list
contains "$OUT" "North depot"
[ "$(printf '%s\n' "$OUT" | wc -l)" = 3 ] || fail "resource table should have 3 lines"

expect 2 "$FIELDMESH" "${N[@]}" resource consume "$R1" -5
expect 2 "$FIELDMESH" "${N[@]}" resource restock "$R1" 0
expect 2 "$FIELDMESH" "${N[@]}" resource add "Sand Bag" --depot d --qty 1
expect 1 "$FIELDMESH" "${N[@]}" resource restock zzzzzzzz-9 1

# state survives a rebuild
expect 0 "$FIELDMESH" "${N[@]}" digest
D=$OUT
expect 0 "$FIELDMESH" "${N[@]}" rebuild
[ "$OUT" = "$D" ] || fail "rebuild changed the digest"
expect 0 "$FIELDMESH" "${N[@]}" unit show "$U1" --json
pyjson 'd["status"] == "assigned" and d["lat"] == -33.9249'

echo "ok: units and resources"
