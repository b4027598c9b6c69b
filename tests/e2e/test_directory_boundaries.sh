#!/usr/bin/env bash
# test_directory_boundaries.sh — county boundaries end to end, on two live
# nodes: a GeoJSON of two counties (one named in Chinese, with a hole) is
# imported into the example directory; publishing it (format version 2)
# is refused without --force, saying why, and goes through with it; the
# other node shows the boundaries; an incident reported inside the second
# county is shown there as in that county, one in the hole as in none; a
# unit of the first county sent to it is warned about. Bad GeoJSON names
# the feature and what is wrong, exits 1 and writes nothing; a 100 MB
# file, deep nesting and an overflowing number are refused cleanly.
. "$(dirname "$0")/lib_gossip.sh"

: "${FM_SRC:?}"
py() { python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($1) else 1)"; }
pyv() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

sed 's/^  - central$/  - 婺城区/; s/county: central$/county: 婺城区/' \
    "$FM_SRC/configs/directory.yaml" >"$T/base.yaml"
grep -q '^  - 婺城区$' "$T/base.yaml" || fail "renaming the county in the base"
cat >"$T/two.geojson" <<'JSON'
{"type": "FeatureCollection", "features": [
 {"type": "Feature", "properties": {"name": "婺城区"},
  "geometry": {"type": "Polygon", "coordinates": [
   [[121.40, 31.20], [121.50, 31.20], [121.50, 31.26], [121.40, 31.26], [121.40, 31.20]],
   [[121.44, 31.22], [121.46, 31.22], [121.46, 31.24], [121.44, 31.24], [121.44, 31.22]]]}},
 {"type": "Feature", "properties": {"name": "riverside"},
  "geometry": {"type": "MultiPolygon", "coordinates": [
   [[[121.50, 31.26], [121.60, 31.26], [121.60, 31.32], [121.50, 31.32], [121.50, 31.26]]]]}}
]}
JSON

# ---- import: errors name the feature; nothing written ----
"$FIELDMESH" directory import-geojson --help >"$T/out" 2>&1 || fail "--help"
grep -q -- "--property NAME" "$T/out" || fail "help: $(cat "$T/out")"
"$FIELDMESH" directory import-geojson >/dev/null 2>&1
[ $? -eq 2 ] || fail "no FILE must be a usage error (exit 2)"
sed 's/"婺城区"/"婺城"/' "$T/two.geojson" >"$T/bad.geojson"
"$FIELDMESH" directory import-geojson "$T/bad.geojson" --base "$T/base.yaml" --out "$T/bad.yaml" \
    2>"$T/err" && fail "an unknown county must fail"
grep -q "features\[0\]: no county '婺城' in the directory" "$T/err" || fail "unknown: $(cat "$T/err")"
grep -q "closest counties: 婺城区" "$T/err" || fail "closest: $(cat "$T/err")"
[ ! -e "$T/bad.yaml" ] || fail "a failed import wrote its output"
sed 's/\[121.40, 31.20\]\]/[121.41, 31.20]]/' "$T/two.geojson" >"$T/open.geojson"
"$FIELDMESH" directory import-geojson "$T/open.geojson" --base "$T/base.yaml" 2>"$T/err" >/dev/null &&
    fail "an open ring must fail"
grep -q "features\[0\] (婺城区): ring 0 is not closed" "$T/err" || fail "open: $(cat "$T/err")"

# hostile: 100 MB (sparse), nesting past jansson's limit, a number that overflows
truncate -s 100M "$T/big.json"
"$FIELDMESH" directory import-geojson "$T/big.json" --base "$T/base.yaml" 2>"$T/err" >/dev/null &&
    fail "a 100 MB file must be refused"
grep -q "too large (at most 16777216 bytes)" "$T/err" || fail "big: $(cat "$T/err")"
rm -f "$T/big.json"
python3 -c "print('[' * 5000 + ']' * 5000)" >"$T/deep.json"
"$FIELDMESH" directory import-geojson "$T/deep.json" --base "$T/base.yaml" 2>"$T/err" >/dev/null &&
    fail "deep nesting must be refused"
grep -q "maximum parsing depth" "$T/err" || fail "deep: $(cat "$T/err")"
sed 's/121.50, 31.20/1e999, 31.20/' "$T/two.geojson" >"$T/huge.geojson"
"$FIELDMESH" directory import-geojson "$T/huge.geojson" --base "$T/base.yaml" 2>"$T/err" >/dev/null &&
    fail "an overflowing number must be refused"
grep -q "line 4, column .*real number overflow" "$T/err" || fail "huge: $(cat "$T/err")"

"$FIELDMESH" directory import-geojson "$T/two.geojson" --base "$T/base.yaml" --out "$T/dir.yaml" \
    2>"$T/err" || fail "import: $(cat "$T/err")"
grep -q "wrote $T/dir.yaml: 2 counties from $T/two.geojson; boundaries for 2 of 3 counties now (3 rings, 12 points)" "$T/err" || fail "import: $(cat "$T/err")"
"$FIELDMESH" directory check "$T/dir.yaml" >"$T/out" 2>&1 || fail "check: $(cat "$T/out")"
grep -q "format version 2" "$T/out" || fail "check: $(cat "$T/out")"

# ---- publish: version 1 first; version 2 needs --force ----
testbed 2 line
for i in 1 2; do start_node "$i"; done
fm 1 directory publish "$T/base.yaml" >/dev/null 2>&1 || fail "publish the base"
V1=$(fm 1 directory show --json | pyv 'd["version"]')
fm 1 directory publish "$T/dir.yaml" >/dev/null 2>"$T/err" && fail "a version 2 without --force"
grep -q "built before version 2 ignores it" "$T/err" ||
    fail "refusal: $(cat "$T/err")"
grep -q "nothing published" "$T/err" || fail "refusal: $(cat "$T/err")"
fm 1 directory show --json | py 'd["version"] == "'"$V1"'" and d["format"] == 1' ||
    fail "the refused publish changed the directory"
fm 1 directory publish "$T/dir.yaml" --force >/dev/null 2>"$T/err" || fail "publish --force: $(cat "$T/err")"

bounds_at_2() {
    fm 2 directory show --json | py 'd["format"] == 2 and sorted(d["boundaries"]) == ["riverside", "婺城区"] and len(d["boundaries"]["婺城区"]) == 2 and d["boundaries"]["婺城区"][1][:2] == [31.22, 121.44]'
}
wait_for 60 "the boundaries on node 2" bounds_at_2

# a new outline for riverside alone, onto the directory in force on node 2:
# 婺城区 keeps the boundary it had
cat >"$T/river.geojson" <<'JSON'
{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "riverside"},
 "geometry": {"type": "Polygon", "coordinates": [[[121.5, 31.26], [121.7, 31.26], [121.6, 31.35], [121.5, 31.26]]]}}]}
JSON
fm 2 directory import-geojson "$T/river.geojson" --out "$T/dir2.yaml" 2>"$T/err" ||
    fail "import onto the directory in force: $(cat "$T/err")"
grep -q "1 county from $T/river.geojson; boundaries for 2 of 3 counties now (3 rings, 11 points)" "$T/err" || fail "merge: $(cat "$T/err")"
grep -q "31.3500000, 121.6000000" "$T/dir2.yaml" || fail "the new riverside outline is missing"
grep -q "31.2200000, 121.4400000" "$T/dir2.yaml" || fail "婺城区 lost its hole"

# ---- the county of an incident ----
IB=$(fm 1 incident report --category building_fire --priority 2 --lat 31.29 --lon 121.55 2>/dev/null) ||
    fail "report in riverside"
IH=$(fm 1 incident report --category building_fire --priority 2 --lat 31.23 --lon 121.45 2>/dev/null) ||
    fail "report in the hole"
IA=$(fm 1 incident report --category building_fire --priority 2 --lat 31.21 --lon 121.41 2>/dev/null) ||
    fail "report in 婺城区"
county_at_2() { fm 2 incident show "$1" --json | py 'd["county"] == '"$2"; }
wait_for 60 "incident B in riverside on node 2" county_at_2 "$IB" '"riverside"'
wait_for 60 "incident in the hole in no county" county_at_2 "$IH" None
wait_for 60 "incident A in 婺城区" county_at_2 "$IA" '"婺城区"'
fm 2 incident show "$IB" | grep -q "^county: *riverside$" || fail "show: $(fm 2 incident show "$IB")"

# a unit of 婺城区 sent to riverside: warned, dispatched
C1=$(fm 1 unit list --json | pyv '[u["id"] for u in d if u["name"] == "Engine C1"][0]')
fm 1 dispatch "$IB" --unit "$C1" >/dev/null 2>"$T/err" || fail "dispatch: $(cat "$T/err")"
grep -q "Engine C1 ($C1, county 婺城区) goes outside its county: the incident lies in riverside" \
    "$T/err" || fail "no outside-county warning: $(cat "$T/err")"
C2=$(fm 1 unit list --json | pyv '[u["id"] for u in d if u["name"] == "Engine C2"][0]')
fm 1 dispatch "$IA" --unit "$C2" >/dev/null 2>"$T/err" || fail "dispatch C2: $(cat "$T/err")"
grep -q "goes outside its county" "$T/err" && fail "warned inside its own county: $(cat "$T/err")"

FAILED=0
echo "ok: boundaries imported, published with --force, seen on node 2, incidents placed"
