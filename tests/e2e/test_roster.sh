#!/usr/bin/env bash
# test_roster.sh — `fieldmesh directory import-csv`: the sample roster
# (configs/roster.csv) becomes directory YAML that `directory publish`
# accepts unchanged on a real node, and every unit, Chinese names
# included, is in the published directory with its capabilities and home;
# the same sheet saved as GB18030 or with a BOM gives the same YAML; the
# rules come from --base or from the directory in force; a bad sheet lists
# every error as FILE:LINE: column NAME: ..., exits 1 and writes nothing;
# bad usage is exit 2.
set -u
. "$(dirname "$0")/cli_lib.sh"
make_testbed tb 1
C=(-c "$T/tb/node1/node.yaml")
CSV=$FM_SRC/configs/roster.csv
BASE=$FM_SRC/configs/directory.yaml

# ---- usage ----
expect 0 "$FIELDMESH" directory import-csv --help
contains "$OUT" "department_kind"
expect 2 "$FIELDMESH" directory import-csv
expect 2 "$FIELDMESH" directory import-csv "$CSV" extra
expect 2 "$FIELDMESH" directory import-csv "$CSV" --bogus
expect 2 "$FIELDMESH" directory import-csv "$CSV" --encoding latin1
contains "$ERR" "--encoding must be auto, utf-8 or gb18030"
run "$FIELDMESH" directory import-csv "$T/missing.csv" --base "$BASE"
[ "$RC" != 0 ] || fail "a missing file must fail"
contains "$ERR" "missing.csv"

expect 74 "$FIELDMESH" directory import-csv "$T" --base "$BASE"
contains "$ERR" "cannot read $T: Is a directory"
expect 74 "$FIELDMESH" directory import-csv "$CSV" --base "$BASE" --out "$T/no/such/dir.yaml"
contains "$ERR" "No such file or directory; nothing written"
expect 78 "$FIELDMESH" directory import-csv "$CSV" --base "$CSV"
contains "$ERR" "roster.csv:1:"

# ---- the sample, rules from --base, published on a real node ----
expect 0 "$FIELDMESH" directory import-csv "$CSV" --base "$BASE" --out "$T/dir.yaml"
contains "$ERR" "3 counties, 20 departments, 36 units; 9 rules from $BASE"
[ -z "$OUT" ] || fail "with --out nothing goes to stdout: $OUT"
grep -q '消防一中队' "$T/dir.yaml" || fail "the Chinese name is not in the YAML as UTF-8"
expect 0 "$FIELDMESH" directory check "$T/dir.yaml"
expect 0 "$FIELDMESH" "${C[@]}" directory publish "$T/dir.yaml"
contains "$ERR" "registered 36 new units"
expect 0 "$FIELDMESH" "${C[@]}" directory show --json
printf '%s' "$OUT" > "$T/show.json"
# every CSV row is in the published directory, field for field
python3 - "$CSV" "$T/show.json" <<'PY' || fail "the published directory differs from the CSV"
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8", newline="")))
d = json.load(open(sys.argv[2], encoding="utf-8"))
depts = {x["name"]: x for x in d["departments"]}
assert len(depts) == len({r["department"] for r in rows}) == 20, len(depts)
assert d["counties"] == ["central", "riverside", "hillside"], d["counties"]
assert d["name"] == "Example City linkage directory"
assert len(d["rules"]) == 9
n = 0
for r in rows:
    x = depts[r["department"]]
    assert x["kind"] == r["department_kind"] and x["tier"] == int(r["tier"])
    assert x["county"] == r["county"]
    if not r["unit"]:
        continue
    u = [u for u in x["units"] if u["name"] == r["unit"]]
    assert len(u) == 1, r["unit"]
    u = u[0]
    n += 1
    words = sorted(set(r["capabilities"].replace(";", " ").split()))
    assert u["capabilities"] == ",".join(words), (u, words)
    assert u["kind"] == r["unit_kind"]
    assert abs(u["lat"] - float(r["lat"])) < 1e-7 and abs(u["lon"] - float(r["lon"])) < 1e-7
assert n == 36
assert depts["中心区消防救援支队"]["units"][1]["name"] == "消防二中队 (Engine C3, reserve)"
PY
expect 0 "$FIELDMESH" "${C[@]}" unit list --json
pyjson 'any(u["name"] == "消防一中队" for u in d)'

# ---- the same sheet as GB18030 and with a UTF-8 BOM: the same YAML ----
iconv -f UTF-8 -t GB18030 "$CSV" > "$T/gb.csv"
expect 0 "$FIELDMESH" directory import-csv "$T/gb.csv" --base "$BASE"
contains "$ERR" "read as GB18030"
printf '%s\n' "$OUT" | grep -v '^#' > "$T/gb.yaml"
grep -v '^#' "$T/dir.yaml" | cmp -s - "$T/gb.yaml" || fail "GB18030 input gave other YAML"
{ printf '\xef\xbb\xbf'; cat "$CSV"; } > "$T/bom.csv"
expect 0 "$FIELDMESH" directory import-csv "$T/bom.csv" --base "$BASE"
printf '%s\n' "$OUT" | grep -v '^#' | cmp -s - "$T/gb.yaml" || fail "a BOM changed the YAML"
expect 1 "$FIELDMESH" directory import-csv "$T/gb.csv" --base "$BASE" --encoding utf-8
contains "$ERR" "gb.csv:35: not valid UTF-8"

# ---- without --base: the name and rules of the directory in force ----
expect 0 "$FIELDMESH" "${C[@]}" directory import-csv "$CSV" --name '城市应急联动名录'
contains "$ERR" "9 rules from the directory in force"
printf '%s\n' "$OUT" > "$T/inforce.yaml"
grep -q '^name: "城市应急联动名录"$' "$T/inforce.yaml" || fail "--name was not used"
diff <(grep -v '^#' "$T/inforce.yaml" | sed 1d) <(grep -v '^#' "$T/dir.yaml" | sed 1d) \
    || fail "the rules in force differ from the base's"
expect 0 "$FIELDMESH" testbed "$T/fresh" --nodes 1 --base-port "$((${FM_PORT_BASE:-17400} + 50))"
expect 1 "$FIELDMESH" -c "$T/fresh/node1/node.yaml" directory import-csv "$CSV"
contains "$ERR" "no directory is published on this node"

# ---- a rule calling on a department the sheet lacks ----
sed 's/{tier: 1, kind: police, capability: cordon, units: 1}/{tier: 1, kind: police, department: "Central Police", capability: cordon, units: 1}/' \
    "$BASE" > "$T/base2.yaml"
grep -v '^Central Police,' "$CSV" > "$T/nocp.csv"
expect 1 "$FIELDMESH" directory import-csv "$T/nocp.csv" --base "$T/base2.yaml" --out "$T/x.yaml"
contains "$ERR" "rule 'chemical_leak' calls on department 'Central Police', which $T/nocp.csv does not list"
[ ! -e "$T/x.yaml" ] || fail "written despite the error"

# ---- the admin's size: 990 teams in 200 departments, saved by Excel as GB18030 ----
python3 - "$T/big.csv" <<'PY'
import csv, sys
counties = ["黄浦区", "徐汇区", "长宁区", "静安区", "普陀区", "虹口区", "杨浦区", "闵行区",
            "宝山区", "嘉定区", "浦东新区", "金山区", "松江区", "青浦区", "奉贤区", "崇明区"]
kinds = ["police", "fire", "medical", "water", "power", "gas", "traffic"]
with open(sys.argv[1], "w", newline="", encoding="gb18030") as f:
    w = csv.writer(f, lineterminator="\r\n")
    w.writerow(["department", "department_kind", "tier", "county", "unit", "unit_kind",
                "capabilities", "lat", "lon"])
    for d in range(200):
        c, k = counties[d % 16], kinds[d % 7]
        for u in range(5 if d < 190 else 4):
            w.writerow([c + "第%d支队" % d, k, 1 + d % 3, c, c + "第%d支队%d号车" % (d, u),
                        "engine", "fire, rescue", "31.%04d" % (d * 5 + u), "121.5"])
PY
# the base gives the name and the rules: rules this roster can fill (a
# need no unit could ever fill is refused, docs/workflow.md §1b)
cat >"$T/big-base.yaml" <<'YAML'
name: "上海市应急联动名录"
counties: [黄浦区]
departments:
  - {name: 黄浦区消防, kind: fire, tier: 1, county: 黄浦区,
     units: [{name: 黄浦区消防1号车, kind: engine, capabilities: [fire, rescue], home: [31.23, 121.48]}]}
rules:
  - {category: building_fire, respond: [{tier: 1, kind: fire, capability: fire, units: 2}]}
  - {category: traffic_accident, respond: [{tier: 1, kind: fire, capability: rescue, units: 1}]}
YAML
expect 0 "$FIELDMESH" directory import-csv "$T/big.csv" --base "$T/big-base.yaml" --out "$T/big.yaml"
contains "$ERR" "16 counties, 200 departments, 990 units"
expect 0 "$FIELDMESH" "${C[@]}" directory publish "$T/big.yaml"
expect 0 "$FIELDMESH" "${C[@]}" directory show --json
pyjson 'len(d["counties"]) == 16 and sum(len(x["units"]) for x in d["departments"]) == 990'
pyjson 'd["departments"][199]["units"][3]["name"] == "闵行区第199支队3号车"'

# ---- a bad sheet: every error, exit 1, nothing written ----
cp "$T/dir.yaml" "$T/keep.yaml"
printf '%s\n' 'department,department_kind,tier,county,unit,unit_kind,capabilities,lat,lon' \
    'A,police,4,c1,U1,patrol,,91,0' \
    'B,fire,1,c1,"two' 'lines",engine,,1,2' \
    'B,gas,1,c1,U2,engine,,1,2' \
    'C,fire,1,c1,U3,engine,,1' > "$T/bad.csv"
expect 1 "$FIELDMESH" directory import-csv "$T/bad.csv" --base "$BASE" --out "$T/keep.yaml"
contains "$ERR" "$T/bad.csv:2: column tier: '4' must be 1, 2 or 3"
contains "$ERR" "$T/bad.csv:2: column lat: '91' must be a number from -90 to 90"
contains "$ERR" "$T/bad.csv:3: column unit: contains a line break"
contains "$ERR" "$T/bad.csv:5: column department_kind: 'B' has kind 'fire' on line 3"
contains "$ERR" "$T/bad.csv:6: the row has 8 fields, the header 9"
contains "$ERR" "5 errors in $T/bad.csv; nothing written"
cmp -s "$T/dir.yaml" "$T/keep.yaml" || fail "the existing --out file was changed"
echo "ok"
