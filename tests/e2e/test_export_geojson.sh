#!/usr/bin/env bash
# test_export_geojson.sh — `fieldmesh export geojson` writes a GeoJSON
# FeatureCollection (RFC 7946) that parses back with python's json: one
# Point per incident, per unit with a known position and per directory
# station, coordinates [longitude, latitude] within range, the values the
# node holds (a quote in an address survives escaping); an empty node gives
# an empty collection; bad usage is exit 2.
set -u
. "$(dirname "$0")/cli_lib.sh"
make_testbed tb 1
C=(-c "$T/tb/node1/node.yaml")

expect 0 "$FIELDMESH" "${C[@]}" export geojson
pyjson 'd == {"type": "FeatureCollection", "features": []}'
expect 2 "$FIELDMESH" "${C[@]}" export geojson --bogus
expect 2 "$FIELDMESH" "${C[@]}" export geojson extra
expect 0 "$FIELDMESH" "${C[@]}" export geojson --help

expect 0 "$FIELDMESH" "${C[@]}" directory publish "$FM_SRC/configs/directory.yaml"
expect 0 "$FIELDMESH" "${C[@]}" incident report --category building_fire --lat 31.2302 \
    --lon 121.4751 --priority 1 --address 'No. 1 "Department" Store'
inc=$OUT
expect 0 "$FIELDMESH" "${C[@]}" unit list --json
unit=$(pyget '[u["id"] for u in d if u["name"] == "Engine C1"][0]')
expect 0 "$FIELDMESH" "${C[@]}" unit position "$unit" -33.9249 18.4241

expect 0 "$FIELDMESH" "${C[@]}" export geojson
pyjson 'd["type"] == "FeatureCollection" and len(d["features"]) == 1 + 1 + 33'
# every feature is a Point with [lon, lat] in range and a kind
pyjson 'all(f["type"] == "Feature" and f["geometry"]["type"] == "Point"
            and len(f["geometry"]["coordinates"]) == 2
            and -180 <= f["geometry"]["coordinates"][0] <= 180
            and -90 <= f["geometry"]["coordinates"][1] <= 90
            and f["properties"]["kind"] in ("incident", "unit", "station")
            for f in d["features"])'
pyjson 'len({f["id"] for f in d["features"]}) == len(d["features"])'
pyjson '[f for f in d["features"] if f["id"] == "'"$inc"'"][0]["geometry"]["coordinates"] == [121.4751, 31.2302]'
pyjson '[f for f in d["features"] if f["id"] == "'"$inc"'"][0]["properties"] | {} == {"kind": "incident",
        "category": "building_fire", "priority": 1, "status": "new",
        "address": "No. 1 \"Department\" Store",
        "reported_at": [f for f in d["features"] if f["id"] == "'"$inc"'"][0]["properties"]["reported_at"],
        "updated_at": [f for f in d["features"] if f["id"] == "'"$inc"'"][0]["properties"]["updated_at"]}'
pyjson '[f for f in d["features"] if f["id"] == "'"$unit"'"][0]["geometry"]["coordinates"] == [18.4241, -33.9249]'
pyjson '[f for f in d["features"] if f["id"] == "'"$unit"'"][0]["properties"]["name"] == "Engine C1"'
# only the one unit with a position is a unit feature; each directory unit has a station
pyjson 'sum(f["properties"]["kind"] == "unit" for f in d["features"]) == 1'
pyjson 'sum(f["properties"]["kind"] == "station" for f in d["features"]) == 33'
pyjson '[f for f in d["features"] if f["id"] == "station:Engine C1"][0]["properties"]["department"] != ""'
total=$(pyget 'len(d["features"])')

# --since: what changed since DATE, without stations (they have no change time)
expect 0 "$FIELDMESH" "${C[@]}" export geojson --since "$(date -u +%Y-%m-%d)"
pyjson 'sorted(f["properties"]["kind"] for f in d["features"]) == ["incident", "unit"]'
expect 0 "$FIELDMESH" "${C[@]}" export geojson --since 2099-01-01T00:00Z
pyjson 'd["type"] == "FeatureCollection" and d["features"] == []'
expect 2 "$FIELDMESH" "${C[@]}" export geojson --since yesterday
contains "$ERR" "--since must be YYYY-MM-DD"
echo "ok: $total features"
