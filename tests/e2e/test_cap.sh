#!/usr/bin/env bash
# test_cap.sh — CAP 1.2 export and import with real nodes.
#
# node1 reports an incident and sends a bulletin; `export cap` of each is
# parsed back with python's XML parser and checked against the elements and
# values CAP 1.2 requires; a changed incident exports as an Update that
# references the first message. A provincial typhoon warning is imported on
# node1 as a bulletin that reaches node2 by gossip; node2 imports node1's
# exported incident (the round trip). Refusals: the same alert twice,
# hostile XML (entity expansion, external DTD, depth), schema errors (each
# naming its line and element), test alerts without --allow-test, a file
# over 1 MiB, usage errors.
. "$(dirname "$0")/lib_gossip.sh"

CORPUS="$FM_SRC/tests/fuzz/corpus/fuzz_cap"
testbed 2 line
start_node 1
start_node 2
wait_for 30 "node1's daemon up" daemon_up 1

inc=$(fm 1 incident report --category building_fire --lat 31.2304 --lon 121.4737 \
      --address "88 Nanjing Rd & <rear>" --desc "smoke on 3rd floor, 2 trapped" --priority 1) ||
    fail "report"
bul=$(fm 1 bulletin send --to all "Yan'an elevated road closed, use detours") || fail "bulletin"

# export: the CAP elements a receiver needs, read back by a real XML parser
check_cap() { python3 - "$@" <<'EOF'
import sys, xml.etree.ElementTree as ET
ns = {"c": "urn:oasis:names:tc:emergency:cap:1.2"}
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "{urn:oasis:names:tc:emergency:cap:1.2}alert", root.tag
def one(path, el=root):
    found = el.findall(path, ns)
    assert len(found) == 1, (path, len(found))
    return found[0].text
for req in ("c:identifier", "c:sender", "c:sent", "c:status", "c:msgType", "c:scope"):
    one(req)
import re
assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d", one("c:sent"))
assert one("c:status") == "Actual" and one("c:scope") == "Restricted"
assert one("c:restriction")
info = root.findall("c:info", ns)
assert len(info) == 1
for req in ("c:event", "c:urgency", "c:severity", "c:certainty"):
    one(req, info[0])
assert info[0].findall("c:category", ns)
want = dict(a.split("=", 1) for a in sys.argv[2:])
got = {"msgType": one("c:msgType"), "severity": one("c:severity", info[0]),
       "urgency": one("c:urgency", info[0]), "category": one("c:category", info[0])}
for p in ("c:headline", "c:description", "c:audience"):
    e = info[0].find(p, ns)
    got[p[2:]] = e.text if e is not None else None
a = info[0].find("c:area", ns)
if a is not None:
    got["areaDesc"] = one("c:areaDesc", a)
    got["circle"] = one("c:circle", a)
for k, v in want.items():
    assert got.get(k) == v, (k, got.get(k), v)
EOF
}
fm 1 export cap "$inc" >"$T/inc.xml" || fail "export cap of an incident"
check_cap "$T/inc.xml" msgType=Alert severity=Extreme urgency=Immediate category=Fire \
    "description=smoke on 3rd floor, 2 trapped" "areaDesc=88 Nanjing Rd & <rear>" \
    "circle=31.2304000,121.4737000 0.000" || fail "the incident's CAP alert"
grep -q '&amp; &lt;rear&gt;' "$T/inc.xml" || fail "text not escaped by the XML writer"
grep -q "caller" "$T/inc.xml" && fail "the caller's number was exported"
fm 1 export cap "$bul" --out "$T/bul.xml" || fail "export cap of a bulletin"
check_cap "$T/bul.xml" msgType=Alert category=Other audience=all \
    "headline=Yan'an elevated road closed, use detours" || fail "the bulletin's CAP alert"
fm 1 export cap "$bul" --out "$T/bul.xml" 2>"$T/err"; [ $? -eq 1 ] || fail "--out overwrote a file"

fm 1 incident status "$inc" dispatched >/dev/null || fail "status"
fm 1 export cap "$inc" >"$T/inc2.xml" || fail "export after an update"
check_cap "$T/inc2.xml" msgType=Update || fail "an updated incident is not an Update"
first=$(sed -n 's:.*<identifier>\(.*\)</identifier>.*:\1:p' "$T/inc.xml")
grep -q "<references>fieldmesh:node1,$first," "$T/inc2.xml" ||
    fail "the Update does not reference the first message $first"

# import: the provincial warning reaches both nodes as a bulletin
bid=$(fm 1 import cap "$CORPUS/weather_warning.xml") || fail "import of the typhoon warning"
has_warning() { fm "$1" bulletin list --no-receipts --json | grep -q "台风“海燕”橙色预警 (Severe, Expected, Likely)"; }
wait_for 40 "the warning at node2" has_warning 2
fm 2 bulletin list --no-receipts --json | grep -q 'Expires 2026-09-18T20:00:00+08:00' ||
    fail "the bulletin lacks the expiry"
fm 2 bulletin list --no-receipts --json | grep -q 'lat 29.8000..30.6000, lon 121.9000..122.8000' ||
    fail "the bulletin lacks the area's bounding box"
en=$(fm 2 import cap "$CORPUS/weather_warning.xml" --language en 2>"$T/err"); [ $? -eq 1 ] ||
    fail "the same alert imported twice"
grep -q "already imported as bulletin $bid" "$T/err" || { cat "$T/err"; fail "duplicate: no reason"; }

# round trip: node1's incident, imported on node2
rt=$(fm 2 import cap "$T/inc.xml") || fail "import of our own export"
fm 2 bulletin list --no-receipts --json | grep -q "building fire: 88 Nanjing Rd & <rear> (Extreme, Immediate, Observed). smoke on 3rd floor, 2 trapped" ||
    fail "round trip lost the incident's text"

# refusals, each with the line and the element
refused() { # FILE TEXT...
    local f=$1
    shift
    fm 1 import cap "$CORPUS/$f" >/dev/null 2>"$T/err"
    [ $? -eq 1 ] || fail "$f was not refused with exit 1"
    grep -qF "$*" "$T/err" || { cat "$T/err"; fail "$f: refusal lacks '$*'"; }
}
refused billion_laughs.xml "billion_laughs.xml:2: document: DOCTYPE refused"
refused xxe.xml "xxe.xml:2: document: DOCTYPE refused"
refused deep.xml "Excessive depth"
refused bad_time.xml "bad_time.xml:5: sent: \"2026-12-05T07:37:56Z\" is not a CAP dateTime"
refused missing_event.xml "missing_event.xml:12: info: lacks its required <event>"
refused bad_enum.xml "bad_enum.xml:16: severity: \"Catastrophic\" is not one of"
refused cap11.xml "only 1.2 is read"
refused test_status.xml "it is an exercise or a test"
tid=$(fm 1 import cap "$CORPUS/test_status.xml" --allow-test) || fail "--allow-test"
fm 1 bulletin list --no-receipts --json | grep -q "\[CAP [0-9a-f]*\] Test: " ||
    fail "an imported test alert is not marked Test"
head -c 1100000 /dev/zero | tr '\0' ' ' >"$T/big.xml"
fm 1 import cap "$T/big.xml" >/dev/null 2>"$T/err"; [ $? -eq 1 ] || fail "a 1.1 MB file was read"
grep -q "larger than 1048576 bytes" "$T/err" || fail "oversized: no reason"
fm 1 import cap "$T/nothere.xml" >/dev/null 2>&1; [ $? -ne 0 ] || fail "missing file imported"

# usage
fm 1 import cap >/dev/null 2>&1; [ $? -eq 2 ] || fail "import cap without FILE: not exit 2"
fm 1 export cap "$inc" --status Real >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad --status: not exit 2"
fm 1 export cap zzzzzzzz-99 >/dev/null 2>"$T/err"; [ $? -eq 1 ] || fail "unknown id: not exit 1"
grep -q "no incident or bulletin" "$T/err" || fail "unknown id: no reason"
[ -n "$rt" ] && [ -n "$tid" ] && [ -z "$en" ] || fail "ids"

FAILED=0
echo "PASS"
