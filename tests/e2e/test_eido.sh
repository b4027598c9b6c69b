#!/usr/bin/env bash
# test_eido.sh — `fieldmesh export eido ID` writes one EIDO-style JSON
# object that parses back with python's json: the header and component
# names of NENA's EIDO JSON, the incident's type, status, priority and
# description, its location as a PIDF-LO document (parsed with python's XML
# parser: the point and the address, escaped), its notes, and for each
# dispatched unit its ticket and status history in time order with who
# stamped each step. The caller's number appears nowhere. Bad usage: exit 2;
# an unknown incident: exit 1.
set -u
. "$(dirname "$0")/cli_lib.sh"
make_testbed tb 1
C=(-c "$T/tb/node1/node.yaml")
# callers are stored only sealed to the dispatchers' key (docs/security.md)
expect 0 "$FIELDMESH" org dispatch-key --org "$T/tb/org" --out "$T/dk"
expect 0 "$FIELDMESH" "${C[@]}" trust publish "$T/dk"

expect 0 "$FIELDMESH" "${C[@]}" incident report --category building_fire --lat 31.2302 \
    --lon 121.4751 --priority 1 --address 'No. 1 "Dept" Store & <annex>' \
    --caller 13800001111 --desc "smoke, 2 trapped"
inc=$OUT
expect 0 "$FIELDMESH" "${C[@]}" incident edit "$inc" --caller 13900002222
expect 0 "$FIELDMESH" "${C[@]}" incident show "$inc"
contains "$OUT" "13900002222" "incident show (the caller is recorded here)"
expect 0 "$FIELDMESH" "${C[@]}" unit register --name "Engine 7" --department fire --tier 1 --kind fire
unit=$OUT
expect 0 "$FIELDMESH" "${C[@]}" dispatch "$inc" --unit "$unit" --note "ladder needed"
ticket=$OUT
expect 0 "$FIELDMESH" "${C[@]}" ticket ack "$ticket"
expect 0 "$FIELDMESH" "${C[@]}" ticket enroute "$ticket"
expect 0 "$FIELDMESH" "${C[@]}" ticket arrive "$ticket"
expect 0 "$FIELDMESH" "${C[@]}" incident note "$inc" "both rescued"

expect 0 "$FIELDMESH" "${C[@]}" export eido "$inc" --agency fire.city.example
printf '%s\n' "$OUT" >"$T/eido.json"
lacks "$OUT" "13800001111" "EIDO output (caller)"
lacks "$OUT" "13900002222" "EIDO output (edited caller)"
python3 - "$T/eido.json" "$inc" "$unit" "$ticket" <<'PY' || fail "EIDO content"
import json, sys, xml.etree.ElementTree as ET
d = json.load(open(sys.argv[1]))
inc, unit, ticket = sys.argv[2:5]
for k in ("$id", "EIDOVersion", "LastUpdateTimeStamp", "OwningAgencyIdentifier",
          "incidentTrackingIdentifier", "incidentComponent", "locationInformationComponent",
          "agencyComponent", "notesComponent", "emergencyResourceComponent"):
    assert k in d, k
assert d["OwningAgencyIdentifier"] == "fire.city.example"
assert d["incidentTrackingIdentifier"] == "urn:emergency:uid:incidentid:%s:fire.city.example" % inc
ic = d["incidentComponent"][0]
assert ic["incidentTypeInternalCode"] == "building_fire"
assert ic["incidentStatusInternalText"] == ["onscene"], ic["incidentStatusInternalText"]
assert ic["incidentCommonPriorityNumber"] == 10
assert ic["incidentDescriptionText"] == "smoke, 2 trapped"
ids = [c["$id"] for k in d if k.endswith("Component") for c in d[k]]
assert len(ids) == len(set(ids)), "component ids repeat"
pidf = ET.fromstring(d["locationInformationComponent"][0]["locationByValue"].encode())
ns = {"gml": "http://www.opengis.net/gml", "ca": "urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr"}
pos = pidf.find(".//gml:pos", ns).text.split()
assert [float(x) for x in pos] == [31.2302, 121.4751], pos
assert pidf.find(".//ca:LOC", ns).text == 'No. 1 "Dept" Store & <annex>'
notes = [(n["notesTypeText"], n["notesActionCommentsText"]) for n in d["notesComponent"]]
assert ("note", "both rescued") in notes, notes
assert not any(k in ("report", "update") for k, _ in notes)
(r,) = d["emergencyResourceComponent"]
assert r["emergencyResourceIdentification"] == unit and r["dispatchIdentification"] == ticket
assert r["emergencyResourceName"] == "Engine 7" and r["emergencyResourceStatusText"] == "onscene"
h = r["statusHistory"]
assert [s["statusText"] for s in h] == ["dispatch", "ack", "enroute", "arrive"], h
assert [s["statusTimeStamp"] for s in h] == sorted(s["statusTimeStamp"] for s in h)
assert h[0]["statusSourceText"] == "dispatcher" and h[0]["statusCommentText"] == "ladder needed"
assert all(s["statusSourceText"] == "dispatcher" for s in h[1:])  # stamped at the centre, for the unit
PY

expect 2 "$FIELDMESH" "${C[@]}" export eido
expect 2 "$FIELDMESH" "${C[@]}" export eido "$inc" --bogus
expect 1 "$FIELDMESH" "${C[@]}" export eido zzzzzzzz-99
[ -z "$OUT" ] || fail "a failed export printed on stdout"
echo "ok: EIDO of $inc"
