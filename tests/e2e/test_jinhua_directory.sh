#!/usr/bin/env bash
# test_jinhua_directory.sh — the city-size Jinhua directory stays what its
# generator says and what the node accepts: configs/gen_jinhua.py run now
# writes configs/jinhua.yaml byte for byte; `directory check` accepts it
# with the sizes the issue asks for (9 counties with boundaries, 75
# departments, ~990 units, a rule for every category the console knows);
# published on a node (--force: format version 3), every unit is
# registered, an incident in 婺城区 is placed in that county, and its
# proposal takes the nearest units, from 婺城区, for every need of tier 1.
. "$(dirname "$0")/cli_lib.sh"

: "${FM_SRC:?set FM_SRC to the source tree}"
JH="$FM_SRC/configs/jinhua.yaml"

# ---- the generator is deterministic and its output is checked in ----
python3 "$FM_SRC/configs/gen_jinhua.py" -o "$T/jinhua.yaml" || fail "the generator failed"
cmp "$T/jinhua.yaml" "$JH" ||
    fail "configs/jinhua.yaml differs from a fresh run of configs/gen_jinhua.py (run it and commit)"
python3 "$FM_SRC/configs/gen_jinhua.py" -o "$T/again.yaml" || fail "second run"
cmp -s "$T/jinhua.yaml" "$T/again.yaml" || fail "two runs differ"
expect 2 python3 "$FM_SRC/configs/gen_jinhua.py" --bogus

# ---- the node accepts it, at the size asked for ----
expect 0 "$FIELDMESH" directory check "$JH"
contains "$OUT" "9 counties, 75 departments, "
contains "$OUT" "boundaries for 9 counties"
units=$(printf '%s' "$OUT" | sed -n 's/.* departments, \([0-9]*\) units.*/\1/p')
[ -n "$units" ] && [ "$units" -ge 950 ] && [ "$units" -le 1050 ] || fail "units: $OUT"
# every category the console offers has a rule (docs/workflow.md §1)
for c in building_fire vehicle_fire wildfire traffic_accident medical hazmat gas_leak flood \
    rescue crime public_order power_outage other chemical_leak water_main_burst \
    elevator_entrapment crowd_gathering epidemic_cluster; do
    grep -q "^  - category: $c  #" "$JH" || fail "no rule for $c"
done

# ---- published: units registered, incidents placed, proposals local ----
expect 0 "$FIELDMESH" testbed "$T/tb" --nodes 1 --base-port "${FM_PORT_BASE:-17600}"
C1=(-c "$T/tb/node1/node.yaml")
expect 1 "$FIELDMESH" "${C1[@]}" directory publish "$JH"
contains "$ERR" "format version 3"
expect 0 "$FIELDMESH" "${C1[@]}" directory publish "$JH" --force
contains "$ERR" "registered $units"
expect 0 "$FIELDMESH" "${C1[@]}" unit list --json
pyjson "len(d) == $units"
pyjson "any(u['name'] == '婺城消防水罐车1号' for u in d)"

# an incident near the city centre (29.08 N, 119.65 E)
expect 0 "$FIELDMESH" "${C1[@]}" incident report --category building_fire --priority 1 \
    --lat 29.0800 --lon 119.6500 --address "婺城区八一北街" --desc "商场三楼冒烟"
id=$OUT
expect 0 "$FIELDMESH" "${C1[@]}" incident show "$id" --json
pyjson "d['county'] == '婺城区'"
expect 0 "$FIELDMESH" "${C1[@]}" dispatch suggest "$id" --json
# tier 1 and 2 (escalate_priority 1): every need filled, no gap left open
pyjson "d['has_rule'] and d['max_tier'] == 2"
pyjson "all(g['found'] >= g['wanted'] for g in d['gaps'])"
# the fire engines, the ambulances and the police come from the two city
# districts (the centre lies 4 km from 金东区's seat), mostly 婺城区, within 10 km
pyjson "all(u['county'] in ('婺城区', '金东区') for u in d['units'] if u['capability'] in ('fire', 'ambulance', 'cordon'))"
pyjson "sum(u['county'] == '婺城区' for u in d['units'] if u['capability'] in ('fire', 'ambulance', 'cordon')) >= 4"
pyjson "all(u['distance_km'] < 10 for u in d['units'] if u['capability'] in ('fire', 'ambulance'))"
# and one in 义乌 gets 义乌's
expect 0 "$FIELDMESH" "${C1[@]}" incident report --category traffic_accident --lat 29.3100 \
    --lon 120.0700 --desc "两车相撞"
id2=$OUT
expect 0 "$FIELDMESH" "${C1[@]}" dispatch suggest "$id2" --json
pyjson "len(d['units']) >= 3 and all(u['county'] == '义乌市' for u in d['units'])"

# ---- what people type: the directory's aliases (docs/workflow.md §1b) ----
contains "$("$FIELDMESH" directory check "$JH" 2>&1)" "34 aliases"
expect 0 "$FIELDMESH" "${C1[@]}" incident report --category 火灾 --lat 29.0810 --lon 119.6510
id3=$OUT
expect 0 "$FIELDMESH" "${C1[@]}" incident show "$id3" --json
pyjson "d['category'] == 'building_fire'"
expect 0 "$FIELDMESH" "${C1[@]}" incident report --category 森林火灾 --lat 29.0810 --lon 119.6510
expect 0 "$FIELDMESH" "${C1[@]}" incident show "$OUT" --json
pyjson "d['category'] == 'wildfire'"
expect 0 "$FIELDMESH" "${C1[@]}" incident list --category 火灾 --json
pyjson "sorted(x['id'] for x in d) == sorted(['$id', '$id3'])"
# an unknown category: refused with the closest, unless forced
expect 2 "$FIELDMESH" "${C1[@]}" incident report --category 火警 --lat 29.08 --lon 119.65
contains "$ERR" "'火警' is no category of the directory (nor an alias of one); closest: building_fire"
expect 2 "$FIELDMESH" "${C1[@]}" incident report --category gas_lek --lat 29.08 --lon 119.65
contains "$ERR" "closest: gas_leak"
contains "$ERR" "--force records it as typed"
expect 0 "$FIELDMESH" "${C1[@]}" incident report --category gas_lek --force --lat 29.08 --lon 119.65
expect 0 "$FIELDMESH" "${C1[@]}" incident edit "$id3" --category 车祸
expect 0 "$FIELDMESH" "${C1[@]}" incident show "$id3" --json
pyjson "d['category'] == 'traffic_accident'"
expect 2 "$FIELDMESH" "${C1[@]}" incident edit "$id3" --category 火警
# material kinds too
expect 0 "$FIELDMESH" "${C1[@]}" resource add 沙袋 --depot 婺城区防汛仓库 --qty 500
expect 0 "$FIELDMESH" "${C1[@]}" resource list --json
pyjson "any(r['kind'] == 'sandbag' and r['depot'] == '婺城区防汛仓库' for r in d)"

# every unit's home lies inside its department's county (even-odd rule on
# the file's own rings, independently of the generator's check)
python3 - "$JH" <<'PY' || fail "a unit's home is outside its county"
import sys
rings, cur = {}, None
dept_county, bad = None, 0
text = open(sys.argv[1], encoding="utf-8").read().split("\n")
section = None
for line in text:
    if not line.startswith(" ") and line.endswith(":"):
        section = line[:-1]
    if section == "boundaries" and line.startswith('  "'):
        cur = line.strip()[1:-2]
    elif section == "boundaries" and line.startswith("    - ["):
        v = [float(x) for x in line.strip()[3:-1].split(",")]
        rings[cur] = list(zip(v[0::2], v[1::2]))
def inside(poly, y, x):
    hit = False
    for i, (ay, ax) in enumerate(poly):
        by, bx = poly[i - 1]
        if (ay > y) != (by > y) and x < (bx - ax) * (y - ay) / (by - ay) + ax:
            hit = not hit
    return hit
n = 0
for line in text:
    if line.startswith("    county: "):
        dept_county = line.split('"')[1]
    elif line.startswith("      - {name: "):
        h = line.split("home: [")[1].rstrip("]}").split(",")
        n += 1
        if not inside(rings[dept_county], float(h[0]), float(h[1])):
            print("outside:", line, file=sys.stderr)
            bad += 1
sys.exit(1 if bad or n < 950 else 0)
PY
echo PASS
