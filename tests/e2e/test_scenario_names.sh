#!/usr/bin/env bash
# test_scenario_names.sh — ids for people, across two live nodes (centre
# and county) running fieldmeshd.
#
# An incident reported on the centre gets a code (author prefix and the
# centre's own counter); the county shows the same code once gossip brought
# it, and takes it wherever an id goes: dispatch by incident code and unit
# name (Chinese too), ack and show a ticket by its code, in any case. A name
# two units carry is refused with both candidates (exit 1); a near miss
# offers the names it resembles. Tables show local time with the offset
# (node.time_zone, TZ over it), JSON stays UTC.
. "$(dirname "$0")/lib_gossip.sh"

: "${FM_SRC:?}"
py() { python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($1) else 1)"; }
pyv() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

testbed 2 line
for i in 1 2; do start_node "$i"; done
fm 1 directory publish "$FM_SRC/configs/directory.yaml" >/dev/null 2>&1 || fail "publish"
TANK=$(fm 1 unit register --name "婺城消防水罐车1号" --department "Riverside Fire Brigade" --tier 1 \
    --kind engine --capabilities hazmat,fire) || fail "register a Chinese name"

I1=$(fm 1 incident report --category chemical_leak --lat 31.3 --lon 121.55 2>/dev/null) || fail "report"
CODE=$(fm 1 incident show "$I1" --json | pyv 'd["code"]')
KEY=$(node_key 1)
PFX=$(echo "${KEY:0:4}" | tr '[:lower:]' '[:upper:]')
[ "$CODE" = "$PFX-1" ] || fail "first incident's code: $CODE (key $KEY)"
fm 1 incident list | grep -q "^$CODE  *$I1 " || fail "no CODE column: $(fm 1 incident list)"
same_code_at_2() { [ "$(fm 2 incident show "$CODE" --json 2>/dev/null | pyv 'd["id"]')" = "$I1" ]; }
wait_for 60 "the code resolving on node 2" same_code_at_2
fm 2 incident show "$CODE" | grep -q "^code: *$CODE$" || fail "incident show: no code line"

# the county dispatches by code and by names
LOWER=$(echo "$CODE" | tr '[:upper:]' '[:lower:]')
wait_for 60 "the Chinese-named unit on node 2" fm 2 unit show "婺城消防水罐车1号"
T1=$(fm 2 dispatch "$LOWER" --unit "Patrol R1" --unit "婺城消防水罐车1号" 2>"$T/err") ||
    fail "dispatch by code and names: $(cat "$T/err")"
TA=$(echo "$T1" | sed -n 1p)
TB=$(echo "$T1" | sed -n 2p)
fm 2 ticket show "$TB" --json | py 'd["ticket"]["unit"] == "'"$TANK"'"' || fail "the Chinese name resolved wrong"
TCODE=$(fm 2 ticket list --json | pyv '[t["code"] for t in d if t["id"] == "'"$TA"'"][0]')
KEY2=$(node_key 2)
P2=$(echo "${KEY2:0:4}" | tr '[:lower:]' '[:upper:]')
[ "$TCODE" = "$P2-1" ] || fail "the county's first ticket: $TCODE"
fm 2 ticket list --json | py 'all(t["incident_code"] == "'"$CODE"'" for t in d)' || fail "incident_code"
fm 2 ticket ack "$TCODE" >/dev/null || fail "ack by code"
fm 2 ticket show "$TA" --json | py 'd["ticket"]["state"] == "acknowledged"' || fail "ack by code: wrong ticket"
fm 2 dispatch status "$CODE" | grep -q "^$TCODE  *$TA  *Patrol R1  " || fail "dispatch status: $(fm 2 dispatch status "$CODE")"
fm 2 ticket ack "ZZZZ-99" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "unknown code: not exit 1"
grep -q "no ticket matches 'ZZZZ-99'" "$T/err" || fail "unknown code: $(cat "$T/err")"

# one name, two units: refused with both; a near miss: did you mean
P1=$(fm 1 unit list --json | pyv '[u["id"] for u in d if u["name"] == "Patrol R1"][0]')
P1B=$(fm 1 unit register --name "Patrol R1" --department "Volunteer Patrol" --tier 1 --kind patrol) ||
    fail "second Patrol R1"
fm 1 unit show "Patrol R1" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "an ambiguous name: not exit 1"
grep -q "ambiguous unit name 'Patrol R1': 2 units are named so: .*$P1.*$P1B\|ambiguous unit name 'Patrol R1': 2 units are named so: .*$P1B.*$P1" "$T/err" ||
    fail "ambiguous name: $(cat "$T/err")"
fm 1 unit show "patrol r" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "a near miss: not exit 1"
grep -q "did you mean: .*Patrol R1" "$T/err" || fail "near miss: $(cat "$T/err")"
fm 1 unit show "$(printf 'x%.0s' $(seq 70))" >/dev/null 2>&1
[ $? -eq 2 ] || fail "a 70-character name is not a usage error"

# names of up to 64 characters (op format 7, which the testbed writes): a
# 64-character Chinese name registers, resolves, reaches the county in
# full and is cut to the column in tables; 65 is a usage error that says
# how many characters it got
N64=$(python3 -c "print(('金华市婺城区消防救援大队城北特勤站' * 4)[:64])")
LONG=$(fm 1 unit register --name "$N64" --department "Riverside Fire Brigade" --tier 1 \
    --kind engine --capabilities fire 2>"$T/err") || fail "a 64-character name: $(cat "$T/err")"
fm 1 unit register --name "${N64}站" --department "Riverside Fire Brigade" --tier 1 \
    --kind engine >/dev/null 2>"$T/err"
[ $? -eq 2 ] || fail "a 65-character name: not exit 2"
grep -q "too long (65 characters, at most 64)" "$T/err" || fail "65 characters: $(cat "$T/err")"
long_at_2() { [ "$(fm 2 unit show "$N64" --json 2>/dev/null | pyv 'd["id"]')" = "$LONG" ]; }
wait_for 60 "the 64-character name on node 2" long_at_2
fm 2 unit show "$LONG" | grep -q "^name: *$N64$" || fail "unit show: $(fm 2 unit show "$LONG")"
ROW=$(fm 2 unit list | grep "^$LONG ")
P20=$(python3 -c "print('$N64'[:20])")   # 40 columns, whatever the shell's locale
P21=$(python3 -c "print('$N64'[:21])")
case "$ROW" in *"$P20..."*) ;; *) fail "the table does not cut the name: $ROW" ;; esac
case "$ROW" in *"$P21"*) fail "the table cut the name past 40 columns: $ROW" ;; esac

# local time with the offset in tables, UTC in JSON
TZ=CST-8 fm 1 incident list | grep -q "^$CODE .*+08:00" || fail "no local time: $(TZ=CST-8 fm 1 incident list)"
TZ=CST-8 fm 1 incident show "$CODE" --json | py 'd["reported_at"].endswith("Z")' || fail "JSON not UTC"

# node.time_zone: tables in the configured zone without TZ; TZ still
# overrides it for one command; a zone this machine lacks is refused at load
sed -i 's|^node:$|node:\n  time_zone: Asia/Kolkata|' "$(conf 1)"
(unset TZ; fm 1 incident list) | grep -q "^$CODE .*+05:30" ||
    fail "node.time_zone not applied: $(unset TZ; fm 1 incident list 2>&1)"
TZ=CST-8 fm 1 incident list | grep -q "^$CODE .*+08:00" || fail "TZ does not override node.time_zone"
(unset TZ; fm 1 incident show "$CODE" --json) | py 'd["reported_at"].endswith("Z")' || fail "JSON not UTC with a zone set"
# report dates and quarters are read in the node's zone: midnight in
# Kolkata is 18:30 UTC the day before
(unset TZ; fm 1 report --from 2026-12-06 --to 2026-12-06 --json) |
    py 'd["from"] == "2026-12-05T18:30:00.000Z" and d["to"] == "2026-12-06T18:30:00.000Z"' ||
    fail "report dates not in node.time_zone: $(unset TZ; fm 1 report --from 2026-12-06 --json)"
(unset TZ; fm 1 report --quarter 2026Q4 --json) | py 'd["from"] == "2026-09-30T18:30:00.000Z"' ||
    fail "quarter not in node.time_zone"
fm 1 report --from 2026-12-06T00:00:00Z --json | py 'd["from"] == "2026-12-06T00:00:00.000Z"' ||
    fail "a Z date is not UTC"
sed -i 's|time_zone: Asia/Kolkata|time_zone: Asia/Kolkatta|' "$(conf 1)"
fm 1 incident list >/dev/null 2>"$T/err"
[ $? -eq 78 ] || fail "an unknown zone: not the config exit code"
grep -q "node.yaml:[0-9]*:14: unknown time zone 'Asia/Kolkatta'" "$T/err" || fail "unknown zone: $(cat "$T/err")"
sed -i 's|time_zone: Asia/Kolkatta|time_zone: Asia/Kolkata|' "$(conf 1)"
FAILED=0
echo "ok: names and codes"
