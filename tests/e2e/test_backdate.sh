#!/usr/bin/env bash
# test_backdate.sh — an author's log grows after its certificate expired
# (issue 9, item 5). node2 writes a report; node1 takes it from a bundle
# 400 days later by its own clock (FM_TEST_CLOCK_OFFSET_MS), after node2's
# 365-day certificate expired: the op is stamped inside the window, so it
# is accepted, but node1's `status` warns (text and JSON backdated_ops)
# with the revocation that keeps node2's log up to its last good seq (the
# WARN log line, quiet during a bundle import, is checked by
# unit.test_backdate). The administrator runs that revocation: the late
# op is cut and the warning goes.
. "$(dirname "$0")/lib_gossip.sh"

jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }
LATER=$(( 400 * 86400 * 1000 ))

testbed 2 line
key2=$(node_key 2)
id=$(fm 2 incident report --category fire --lat 30.1 --lon 120.1 --address "written offline") ||
    fail "report at node2"
fm 1 bundle vector "$T/v1" 2>/dev/null || fail "bundle vector"
fm 2 bundle export "$T/b21" --for "$T/v1" 2>/dev/null || fail "bundle export"

# in good time: no warning
cp -r "$T/tb/node1" "$T/tb/node1-now"
"$FIELDMESH" -c "$T/tb/node1-now/node.yaml" bundle import "$T/b21" >/dev/null 2>&1 ||
    fail "import in good time"
sj=$("$FIELDMESH" -c "$T/tb/node1-now/node.yaml" status --json) || fail "status"
[ "$(echo "$sj" | jget 'd["backdated_ops"]')" = "[]" ] || fail "warning in good time: $sj"

# 400 days later by node1's clock
FM_TEST_CLOCK_OFFSET_MS=$LATER fm 1 bundle import "$T/b21" >/dev/null 2>"$T/import.err" ||
    fail "import after expiry: $(cat "$T/import.err")"
fm 1 incident show "$id" >/dev/null || fail "the op was not accepted"
sj=$(fm 1 status --json) || fail "status --json"
[ "$(echo "$sj" | jget 'len(d["backdated_ops"])')" = 1 ] || fail "not flagged: $sj"
[ "$(echo "$sj" | jget 'd["backdated_ops"][0]["author"]')" = "$key2" ] || fail "author: $sj"
[ "$(echo "$sj" | jget 'd["backdated_ops"][0]["late_ops"]')" = 1 ] || fail "late_ops: $sj"
[ "$(echo "$sj" | jget 'd["backdated_ops"][0]["first_late_seq"]')" = 2 ] || fail "first: $sj"
[ "$(echo "$sj" | jget 'd["backdated_ops"][0]["last_good_seq"]')" = 1 ] || fail "last good: $sj"
echo "$sj" | jget 'd["backdated_ops"][0]["revoke_command"]' |
    grep -q -- "org revoke --org ORGDIR --key $key2 --last-seq 1 " || fail "command: $sj"
cmd=$(echo "$sj" | jget 'd["backdated_ops"][0]["revoke_command"]')
fm 1 status | grep -q "^warning:   node2 (${key2:0:16}): 1 op(s), seq 2..2, reached this node after its certificate expired" ||
    fail "no warning line: $(fm 1 status)"
log "late op flagged with the revocation to run"

# the administrator's procedure: exactly the printed commands (the
# revocation keeps seq 1 and names its head, read from node1's store)
cmd=${cmd//ORGDIR/$T/tb/org}
cmd=${cmd//rev.txt/$T/rev.txt}
cmd=${cmd//fieldmesh /$FIELDMESH }
revoke=${cmd%%, then *}
publish=${cmd#*, then }
eval "$revoke" >/dev/null 2>"$T/revoke.err" || fail "org revoke: $(cat "$T/revoke.err")"
eval "$publish" >/dev/null 2>&1 || fail "trust publish"
fm 1 incident show "$id" >/dev/null 2>&1 && fail "the late op survived its revocation"
sj=$(fm 1 status --json) || fail "status --json"
[ "$(echo "$sj" | jget 'd["backdated_ops"]')" = "[]" ] || fail "still warned after revocation: $sj"
log "revoked: the late op is cut, the warning gone"

FAILED=0
echo "PASS: test_backdate"
