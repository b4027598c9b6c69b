#!/usr/bin/env bash
# test_scenario_plans.sh — linkage plans (run cards) and short ways to name
# a ticket, across three live nodes (centre, county, a traffic police
# motorcycle's vehicle node).
#
# The centre publishes the example directory with alarm levels (format
# version 3: only with --force), takes a building fire, dispatches the
# level-1 plan with `dispatch --plan` in one write (a second --plan finds
# nothing to send and writes nothing), raises the alarm to level 2 and is
# shown only what level 2 adds, and sends that. The county sees level 2,
# raises it to 3, and the centre sees 3 (the merge is max). The vehicle
# may not raise it. Then the motorcycle acknowledges its ticket by the
# number of its code alone, goes en route and clears with no ticket named
# (its own), and a number two tickets share is refused with both codes.
. "$(dirname "$0")/lib_gossip.sh"

: "${FM_SRC:?}"
py() { python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($1) else 1)"; }
pyv() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
PLANS="$FM_SRC/configs/directory-plans.yaml"

pick_ports 3
"$FIELDMESH" testbed "$T/tb" --nodes 3 --topology mesh --base-port "$BASE" \
    --roles centre,county,vehicle >/dev/null 2>"$T/testbed.err" || fail "testbed failed"
"$FIELDMESH" org enroll --org "$T/tb/org" --key "$(node_key 3)" --name node3 --role vehicle \
    --unit "Traffic T1" --out "$T/v3.cert" >/dev/null 2>"$T/err" || fail "enroll: $(cat "$T/err")"
fm 3 trust renew "$T/v3.cert" >/dev/null 2>"$T/err" || fail "renew: $(cat "$T/err")"
for i in 1 2 3; do start_node "$i"; done

# levels make the directory format version 3: refused without --force
fm 1 directory check "$PLANS" >"$T/out" 2>&1 || fail "check: $(cat "$T/out")"
grep -q "alarm levels for 2 rules: format version 3" "$T/out" || fail "check: $(cat "$T/out")"
fm 1 directory publish "$PLANS" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "a version-3 directory published without --force"
grep -q "alarm levels (linkage plans), so it publishes as directory format version 3" "$T/err" ||
    fail "publish refusal: $(cat "$T/err")"
fm 1 directory publish "$PLANS" --force >/dev/null 2>&1 || fail "publish --force"
fm 1 directory show --json | py '[l["level"] for r in d["rules"] if r["category"] == "building_fire" for l in r["levels"]] == [2, 3]' ||
    fail "directory show: levels"
wait_for 30 "directory on all nodes" digests_equal 1 2 3

INC=$(fm 1 incident report --category building_fire --priority 3 --lat 31.232 --lon 121.476 2>/dev/null) ||
    fail "report"
fm 1 incident show "$INC" --json | py 'd["alarm_level"] == 1' || fail "a new incident is not at level 1"
# level 1: 2 engines, the ladder, an ambulance, in one write
TK1=$(fm 1 dispatch "$INC" --plan 2>"$T/err") || fail "dispatch --plan: $(cat "$T/err")"
[ "$(echo "$TK1" | wc -l)" -eq 4 ] || fail "level-1 tickets: $TK1"
fm 1 dispatch "$INC" --plan >"$T/out" 2>"$T/err"
[ $? -eq 1 ] || fail "an empty plan was not refused"
[ -s "$T/out" ] && fail "an empty plan printed tickets: $(cat "$T/out")"
grep -q "nothing to dispatch for $INC: the proposal is empty (the units out on it fill every need); nothing written" "$T/err" ||
    fail "empty plan: $(cat "$T/err")"
fm 1 ticket list --incident "$INC" --json | py 'len(d) == 4' || fail "an empty plan wrote tickets"

# level 2 proposes only what it adds: one more engine, one more ambulance,
# a traffic unit; the four out are counted, not proposed again
fm 1 incident upgrade "$INC" --reason "spreading to the roof" >"$T/up" 2>"$T/err" ||
    fail "upgrade: $(cat "$T/err")"
grep -q "^$INC raised to alarm level 2$" "$T/up" || fail "upgrade: $(cat "$T/up")"
grep -q "alarm level 2, tiers 1-1" "$T/up" || fail "proposal header: $(cat "$T/up")"
[ "$(grep -c "already out:" "$T/up")" -eq 4 ] || fail "already out: $(cat "$T/up")"
grep -q "Traffic T1" "$T/up" || fail "no traffic unit proposed: $(cat "$T/up")"
fm 1 dispatch suggest "$INC" --json >"$T/s.json"
py 'd["alarm_level"] == 2 and sorted(u["capability"] for u in d["units"]) == ["ambulance", "fire", "traffic_control"] and len(d["assigned"]) == 4 and not (set(u["unit"] for u in d["units"]) & set(a["unit"] for a in d["assigned"]))' <"$T/s.json" ||
    fail "level-2 proposal: $(cat "$T/s.json")"
fm 1 incident show "$INC" >"$T/show"
grep -q "^alarm level: 2 (raised " "$T/show" || fail "show: $(cat "$T/show")"
grep -q "alarm level 2: spreading to the roof" "$T/show" || fail "timeline: $(cat "$T/show")"
TK2=$(fm 1 dispatch "$INC" --plan 2>"$T/err") || fail "level-2 --plan: $(cat "$T/err")"
[ "$(echo "$TK2" | wc -l)" -eq 3 ] || fail "level-2 tickets: $TK2"

# the county converges to level 2, raises it to 3; the centre sees 3
level_is() { fm "$1" incident show "$INC" --json 2>/dev/null | py "d['alarm_level'] == $2"; }
wait_for 30 "level 2 at the county" level_is 2 2
fm 2 incident upgrade "$INC" --level 3 >/dev/null 2>"$T/err" || fail "county upgrade: $(cat "$T/err")"
wait_for 30 "level 3 at the centre" level_is 1 3
fm 2 dispatch status "$INC" --json | py 'd["alarm_level"] == 3' || fail "dispatch status: alarm_level"
fm 1 incident upgrade "$INC" --level 2 >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "a lower level was not refused"
grep -q "already at level 3 (levels only go up)" "$T/err" || fail "lower level: $(cat "$T/err")"
# a vehicle raises no alarm (exit 3, a role refusal)
wait_for 30 "the incident at the vehicle" level_is 3 3
fm 3 incident upgrade "$INC" >/dev/null 2>"$T/err"
rc=$?
[ "$rc" -eq 3 ] || fail "a vehicle upgrade: exit $rc: $(cat "$T/err")"

# the motorcycle's own ticket: by the number of its code, then by default
T1=$(fm 1 unit list --json | pyv '[u["id"] for u in d if u["name"] == "Traffic T1"][0]')
MINE=$(fm 1 ticket list --incident "$INC" --json | pyv '[t["id"] for t in d if t["unit"] == "'"$T1"'"][0]')
CODE=$(fm 1 ticket list --incident "$INC" --json | pyv '[t["code"] for t in d if t["unit"] == "'"$T1"'"][0]')
NUM=${CODE##*-}
wait_for 30 "the ticket at the vehicle" fm 3 ticket show "$MINE"
fm 3 ticket ack "$NUM" >"$T/out" 2>"$T/err" || fail "ack by number $NUM: $(cat "$T/err")"
grep -q "^$MINE: acknowledged$" "$T/out" || fail "ack by number: $(cat "$T/out")"
fm 3 ticket enroute >"$T/out" 2>"$T/err" || fail "enroute (own): $(cat "$T/err")"
grep -q "^$MINE: enroute$" "$T/out" || fail "enroute (own): $(cat "$T/out")"
fm 1 ticket enroute >/dev/null 2>"$T/err"
[ $? -eq 2 ] || fail "a centre with no unit guessed a ticket: $(cat "$T/err")"
fm 3 ticket clear --result "traffic held on Lane 5" >"$T/out" 2>"$T/err" || fail "clear (own): $(cat "$T/err")"
grep -q "^$MINE: cleared$" "$T/out" || fail "clear (own): $(cat "$T/out")"
fm 3 ticket arrive >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "no active ticket: not exit 1"
grep -q "Traffic T1 (.*) holds no active ticket here" "$T/err" || fail "none active: $(cat "$T/err")"

# a number two active tickets share (each author counts its own): refused
# with both codes, never guessed; the code itself still works
FIRST=$(echo "$TK1" | sed -n 1p)
FCODE=$(fm 1 ticket show "$FIRST" --json | pyv 'd["ticket"]["code"]')
N=${FCODE##*-}
INC2=$(fm 2 incident report --category gas_leak --priority 3 --lat 31.30 --lon 121.56 2>/dev/null) ||
    fail "report 2"
OTHER="" # the county's counter: its report, then each ticket, until one is N
for u in "Gas Crew G2" "Gas Crew G1" "Patrol R1" "Patrol R2" "Engine H1" "Patrol H1"; do
    t=$(fm 2 dispatch "$INC2" --unit "$u" --force 2>/dev/null) || continue
    c=$(fm 2 ticket show "$t" --json | pyv 'd["ticket"]["code"]')
    [ "${c##*-}" = "$N" ] && { OTHER=$t; OCODE=$c; break; }
done
[ -n "$OTHER" ] || fail "no county ticket with number $N"
wait_for 30 "the county's ticket at the centre" fm 1 ticket show "$OTHER"
fm 1 ticket ack "$N" >"$T/out" 2>"$T/err"
[ $? -eq 1 ] || fail "an ambiguous number was not refused: $(cat "$T/out")"
grep -q "ambiguous number '$N': 2 active tickets have it" "$T/err" || fail "ambiguous: $(cat "$T/err")"
grep -q "$FCODE ($FIRST)" "$T/err" && grep -q "$OCODE ($OTHER)" "$T/err" ||
    fail "candidates: $(cat "$T/err")"
fm 1 ticket ack "$FCODE" >/dev/null 2>"$T/err" || fail "ack by code: $(cat "$T/err")"

wait_for 60 "digests equal" digests_equal 1 2 3
FAILED=0
echo "ok: linkage plans, bare numbers, own ticket"
