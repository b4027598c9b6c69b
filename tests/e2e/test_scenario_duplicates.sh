#!/usr/bin/env bash
# test_scenario_duplicates.sh — the same gas leak called in twice, across
# two live nodes (centre and county) running fieldmeshd.
#
# The centre takes the first call; the county, once gossip brought it,
# takes a second call 70 m away and is told "possible duplicate of CODE"
# with the link command; a call of another category or 2 km away is not.
# The county dispatched a crew to its copy: linking is refused while the
# crew is out, then done with --cancel-tickets in one write. Both nodes
# converge: the copy closed with a note naming the survivor, the survivor
# holding the second caller's details, the crew available again.
. "$(dirname "$0")/lib_gossip.sh"

: "${FM_SRC:?}"
py() { python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($1) else 1)"; }
pyv() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

testbed 2 line
for i in 1 2; do start_node "$i"; done
fm 1 directory publish "$FM_SRC/configs/directory.yaml" >/dev/null 2>&1 || fail "publish"
A=$(fm 1 incident report --category gas_leak --lat 31.2 --lon 121.4 --address "Lane 5" 2>/dev/null) ||
    fail "first call"
CODE=$(fm 1 incident show "$A" --json | pyv 'd["code"]')
wait_for 60 "the first call on node 2" fm 2 incident show "$A"
B=$(fm 2 incident report --category gas_leak --lat 31.2005 --lon 121.4005 --address "Lane 5 no 3" \
    --caller 13800000000 2>"$T/err") || fail "second call"
grep -q "possible duplicate of $CODE ($A, priority 1, new): [0-9]* m away, reported .* before; if it is the same emergency: fieldmesh incident link $B --to $CODE" "$T/err" ||
    fail "no duplicate hint: $(cat "$T/err")"
fm 2 incident report --category building_fire --lat 31.2 --lon 121.4 2>"$T/err" >/dev/null || fail "fire"
grep -q "possible duplicate" "$T/err" && fail "another category hinted: $(cat "$T/err")"
fm 2 incident report --category gas_leak --lat 31.22 --lon 121.4 2>"$T/err" >/dev/null || fail "far"
grep -q "possible duplicate" "$T/err" && fail "a call 2 km away hinted: $(cat "$T/err")"

G1=$(fm 2 unit list --json | pyv '[u["id"] for u in d if u["name"] == "Gas Crew G1"][0]')
TK=$(fm 2 dispatch "$B" --unit "Gas Crew G1") || fail "dispatch to the copy"
fm 2 incident link "$B" --to "$CODE" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "link with a crew out: not exit 1"
grep -q "1 unit(s) still hold active tickets on it; cancel them in the same write with --cancel-tickets" "$T/err" ||
    fail "link refusal: $(cat "$T/err")"
fm 2 incident link "$B" --to "$B" >/dev/null 2>&1
[ $? -eq 2 ] || fail "self link: not a usage error"
OUT=$(fm 2 incident link "$B" --to "$CODE" --cancel-tickets) || fail "link"
[ "$OUT" = "$B: linked to $A and closed (1 ticket(s) cancelled)" ] || fail "link output: $OUT"
wait_for 60 "convergence" digests_equal 1 2
# at op format 3 and above (the testbed writes the newest) a link is a merge as well: the copy is
# closed, and its id names the survivor, which counts the call
fm 1 incident list --json | py 'any(x["id"] == "'"$B"'" and x["status"] == "closed" and x["merged_into"] == "'"$A"'" for x in d)' ||
    fail "the copy on node 1: $(fm 1 incident list --json)"
fm 1 incident show "$B" --json 2>/dev/null | py 'd["id"] == "'"$A"'" and d["calls"] == 2 and any(e["text"].startswith("duplicate of '"$A"'") for e in d["timeline"])' ||
    fail "the copy on node 1: $(fm 1 incident show "$B" --json)"
fm 1 incident show "$A" --json | py 'd["status"] == "new" and any("further call (duplicate '"$B"' linked here); address: Lane 5 no 3" == e["text"] for e in d["timeline"])' ||
    fail "the survivor on node 1: $(fm 1 incident show "$A" --json)"
# the caller's number is for dispatchers: never copied into a note
fm 1 incident show "$A" --json | grep -q 13800000000 && fail "the caller's number was copied onto the survivor"
fm 1 ticket show "$TK" --json | py 'd["ticket"]["state"] == "cancelled"' || fail "the crew's ticket"
fm 1 unit show "$G1" --json | py 'd["status"] == "available"' || fail "the crew is not available"
FAILED=0
echo "ok: duplicate calls"
