#!/usr/bin/env bash
# test_scenario_rename.sh — a directory that stays true over time, across
# two live nodes (centre and county) running fieldmeshd (docs/workflow.md
# §1c).
#
# Version 1 lists a fire engine with a stable id (WC-F-001) and a second
# engine without one; a third engine is registered by hand. The keyed
# engine goes out on a call. Version 2 renames the keyed engine and moves
# it to another department, drops the second engine and lists the hand-
# registered one: on both nodes the keyed engine keeps its id and its
# ticket under the new name, the dropped one is retired (never proposed; a
# dispatch by hand is refused without --force and warned about with it),
# and the hand-registered one is listed (adopted). A centre at op format 5
# cannot publish ids (exit 78, nothing written). The JSON carries the
# standing and the directory id; the unit resolves by its directory id.
# Last, `org enroll --department` makes a station a duty room for a whole
# brigade (usage errors for a vehicle, with --unit, for a "dept:" unit,
# for a department too long), and no unit may be named "dept:...".
. "$(dirname "$0")/lib_gossip.sh"

py() { python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($1) else 1)"; }
pyv() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

cat >"$T/v1.yaml" <<'EOF'
name: 金华市应急联动单位目录
counties: [婺城区, 金东区]
departments:
  - name: 婺城区消防救援大队
    kind: fire
    tier: 1
    county: 婺城区
    units:
      - {name: 婺城消防水罐车1号, id: WC-F-001, kind: engine, capabilities: [water], home: [29.08, 119.64]}
      - {name: 婺城消防水罐车2号, kind: engine, capabilities: [water], home: [29.09, 119.65]}
  - name: 金东区消防救援大队
    kind: fire
    tier: 1
    county: 金东区
    units: []
rules:
  - {category: building_fire, respond: [{tier: 1, kind: fire, capability: water, units: 3}]}
EOF
cat >"$T/v2.yaml" <<'EOF'
name: 金华市应急联动单位目录
counties: [婺城区, 金东区]
departments:
  - name: 婺城区消防救援大队
    kind: fire
    tier: 1
    county: 婺城区
    units:
      - {name: 备用水罐车, kind: engine, capabilities: [water], home: [29.08, 119.66]}
  - name: 金东区消防救援大队
    kind: fire
    tier: 1
    county: 金东区
    units:
      - {name: 金东消防水罐车1号, id: WC-F-001, kind: engine, capabilities: [foam, water], home: [29.10, 119.70]}
rules:
  - {category: building_fire, respond: [{tier: 1, kind: fire, capability: water, units: 3}]}
EOF

testbed 2 line
for i in 1 2; do start_node "$i"; done

# ---- op format 5 refuses ids; nothing is published ----
sed -i 's/^  op_format: 7$/  op_format: 5/' "$(conf 1)"
grep -q '^  op_format: 5$' "$(conf 1)" || fail "test setup: op_format line"
fm 1 directory publish "$T/v1.yaml" --force >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 78 ] || fail "publish at op format 5: exit $rc: $(cat "$T/err")"
grep -q "needs node.op_format 6" "$T/err" || fail "op format refusal: $(cat "$T/err")"
fm 1 directory show >/dev/null 2>&1 && fail "a directory was published at op format 5"
sed -i 's/^  op_format: 5$/  op_format: 7/' "$(conf 1)"
# without --force: format version 2, refused with its reason
fm 1 directory publish "$T/v1.yaml" >"$T/out" 2>"$T/err" && fail "published without --force"
grep -q "stable unit ids" "$T/err" || fail "format refusal: $(cat "$T/err")"

# ---- version 1 ----
fm 1 directory publish "$T/v1.yaml" --force >"$T/out" 2>"$T/err" || fail "publish v1: $(cat "$T/err")"
grep -q "registered 2 new units$" "$T/err" || fail "publish v1 output: $(cat "$T/err")"
HAND=$(fm 1 unit register --name 备用水罐车 --department 婺城区消防救援大队 --tier 1 --kind engine \
    --capabilities water 2>/dev/null) || fail "hand register"
fm 1 unit position "$HAND" 29.08 119.66 >/dev/null 2>&1 || fail "hand position"
uid() { fm 1 unit list --json | pyv '[u["id"] for u in d if u["name"] == "'"$1"'"][0]'; }
K=$(uid 婺城消防水罐车1号)
E2=$(uid 婺城消防水罐车2号)
fm 1 unit list --json | py '[(u["directory_id"], u["directory"]) for u in d if u["id"] == "'"$K"'"] == [("WC-F-001", "listed")]' ||
    fail "keyed unit json: $(fm 1 unit list --json)"
fm 1 unit list --json | py '[u["directory"] for u in d if u["id"] == "'"$HAND"'"] == ["unlisted"]' ||
    fail "hand unit json"
fm 1 unit list >"$T/list" 2>"$T/list.err" || fail "unit list"
grep -q "not listed (by hand)" "$T/list" || fail "unit table: $(cat "$T/list")"
grep -q "^1 registered by hand and not in the directory" "$T/list.err" || fail "unit list note: $(cat "$T/list.err")"
# the directory id resolves like a name
fm 1 unit show WC-F-001 --json | py 'd["id"] == "'"$K"'"' || fail "unit show by directory id"

I1=$(fm 1 incident report --category building_fire --priority 2 --lat 29.08 --lon 119.64 2>/dev/null) ||
    fail "report"
T1=$(fm 1 dispatch "$I1" --unit "$K" 2>/dev/null) || fail "dispatch the keyed unit"

# ---- version 2: rename and move, retire, adopt ----
fm 1 directory publish "$T/v2.yaml" --force >"$T/out" 2>"$T/err" || fail "publish v2: $(cat "$T/err")"
grep -q "registered 0 new units; updated 1 unit with a stable id" "$T/err" || fail "publish v2 count: $(cat "$T/err")"
grep -q "retired 1 unit no longer listed" "$T/err" || fail "publish v2 retired: $(cat "$T/err")"
grep -q "婺城消防水罐车2号" "$T/err" || fail "publish v2 names the retired unit: $(cat "$T/err")"
grep -q "registered by hand" "$T/err" && fail "the hand unit is listed now: $(cat "$T/err")"

renamed_at() {
    fm "$1" unit list --json >"$T/u$1.json" 2>/dev/null &&
        py '[(u["name"], u["department"], u["directory"]) for u in d if u["id"] == "'"$K"'"] == [("金东消防水罐车1号", "金东区消防救援大队", "listed")]' <"$T/u$1.json"
}
for i in 1 2; do
    wait_for 60 "the rename at node $i" renamed_at "$i"
    py '[u["directory"] for u in d if u["id"] == "'"$E2"'"] == ["retired"]' <"$T/u$i.json" ||
        fail "retired at node $i: $(cat "$T/u$i.json")"
    py '[u["directory"] for u in d if u["id"] == "'"$HAND"'"] == ["listed"]' <"$T/u$i.json" ||
        fail "adopted at node $i: $(cat "$T/u$i.json")"
    py 'len([u for u in d if u["name"] == "金东消防水罐车1号"]) == 1' <"$T/u$i.json" ||
        fail "one entity for the renamed unit at node $i"
done
# the ticket stayed with the unit
fm 2 ticket show "$T1" --json | py 'd["ticket"]["unit"] == "'"$K"'"' || fail "ticket after the rename"
fm 1 unit show "$E2" >"$T/show" 2>&1 || fail "show retired"
grep -q "retired: the directory in force no longer lists it" "$T/show" || fail "unit show: $(cat "$T/show")"

# ---- the retired engine: never proposed, refused by hand without --force ----
fm 1 unit position "$E2" 29.09 119.65 >/dev/null 2>&1 || fail "position E2"
I2=$(fm 1 incident report --category building_fire --priority 2 --lat 29.09 --lon 119.65 2>/dev/null) ||
    fail "report 2"
fm 1 dispatch suggest "$I2" --json | py '"'"$E2"'" not in [u["unit"] for u in d["units"]] and "'"$HAND"'" in [u["unit"] for u in d["units"]]' ||
    fail "proposal: $(fm 1 dispatch suggest "$I2" --json)"
fm 1 dispatch "$I2" --unit "$E2" >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 1 ] || fail "dispatching a retired unit: exit $rc"
grep -q "cannot dispatch 婺城消防水罐车2号 ($E2) to $I2: it is retired" "$T/err" ||
    fail "retired refusal: $(cat "$T/err")"
fm 1 dispatch "$I2" --unit "$E2" --force >"$T/out" 2>"$T/err" || fail "dispatch --force"
grep -q "with --force although it is retired" "$T/err" || fail "force warning: $(cat "$T/err")"

wait_for 60 "digests equal" digests_equal 1 2

# ---- a duty room for a whole department: org enroll --department ----
KEY=$(node_key 2)
"$FIELDMESH" org enroll --org "$T/tb/org" --key "$KEY" --name 金东值班室 --role vehicle \
    --department 金东区消防救援大队 --out "$T/x.cert" >/dev/null 2>"$T/err"
[ $? = 2 ] || fail "--department for a vehicle: $(cat "$T/err")"
grep -q "is for a station" "$T/err" || fail "--department role message: $(cat "$T/err")"
"$FIELDMESH" org enroll --org "$T/tb/org" --key "$KEY" --name 金东值班室 --role station \
    --department 金东区消防救援大队 --unit x --out "$T/x.cert" >/dev/null 2>&1
[ $? = 2 ] || fail "--unit with --department"
"$FIELDMESH" org enroll --org "$T/tb/org" --key "$KEY" --name 金东值班室 --role station \
    --unit dept:金东区消防救援大队 --out "$T/x.cert" >/dev/null 2>&1
[ $? = 2 ] || fail "--unit dept:..."
"$FIELDMESH" org enroll --org "$T/tb/org" --key "$KEY" --name 金东值班室 --role station \
    --department "$(printf '区%.0s' $(seq 1 65))" --out "$T/x.cert" >/dev/null 2>"$T/err"
[ $? = 2 ] || fail "a department of 65 characters"
grep -q "too long (65 characters, at most 64)" "$T/err" || fail "65 characters: $(cat "$T/err")"
"$FIELDMESH" org enroll --org "$T/tb/org" --key "$KEY" --name 金东值班室 --role station \
    --department 金东区消防救援大队 --out "$T/x.cert" >/dev/null 2>"$T/err" ||
    fail "enroll a duty room: $(cat "$T/err")"
# no unit may take a department claim's name
fm 1 unit register --name dept:金东区消防救援大队 --department 金东区消防救援大队 --tier 1 \
    --kind engine >/dev/null 2>&1 && fail "a unit named dept:..."
log "ok"
