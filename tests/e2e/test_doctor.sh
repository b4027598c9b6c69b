#!/usr/bin/env bash
# test_doctor.sh — `fieldmesh doctor` finds each planted problem, names the
# fix, and exits 1; on a healthy pair it finds none and exits 0:
#   wrong key mode, expired (and soon-expiring) certificate, a nearly full
#   disk (a small tmpfs in a private mount namespace), the daemon down, an
#   unreachable peer, a peer clock 10 minutes off, the listen port taken by
#   another process, a broken config; plus --help, --json and bad usage.
. "$(dirname "$0")/lib_gossip.sh"
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 needed"; exit 77; }

# doctor I [ARGS]: runs doctor --json on node I; sets OUT and RC.
doctor() {
    local i=$1
    shift
    OUT=$("$FIELDMESH" -c "$(conf "$i")" doctor --json "$@" 2>"$T/doctor.err")
    RC=$?
}
# finding CHECK STATUS [TEXT-IN-WHAT [TEXT-IN-FIX]]: the last doctor output has it.
finding() {
    printf '%s' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
check, status = sys.argv[1], sys.argv[2]
what = sys.argv[3] if len(sys.argv) > 3 else ""
fix = sys.argv[4] if len(sys.argv) > 4 else ""
assert d["problems"] == sum(c["status"] == "problem" for c in d["checks"])
ok = any(c["check"] == check and c["status"] == status and what in c["what"]
         and fix in (c["fix"] or "") for c in d["checks"])
sys.exit(0 if ok else 1)' "$@"
}
# expect_finding CHECK STATUS [WHAT [FIX]]: and doctor exited 1 for a problem.
expect_finding() {
    finding "$@" || fail "doctor lacks ($*); it said: $OUT"
    if [ "$2" = problem ] && [ "$RC" != 1 ]; then fail "doctor exited $RC with a problem"; fi
}
# doctor_finds I CHECK STATUS [WHAT]: for wait_for (polls while gossip settles).
doctor_finds() { local i=$1; shift; doctor "$i"; finding "$@"; }
# healthy: node1's doctor finds no problem, node2 answering, its clock measured
# (prints what doctor said otherwise, for wait_for's failure message).
healthy() {
    doctor 1 && [ "$RC" = 0 ] && finding peer ok "node2" && finding clock ok && return 0
    printf '%s\n' "$OUT"
    return 1
}

testbed 2 line
key1="$T/tb/node1/data/node.key"

# ---- usage ----
"$FIELDMESH" -c "$(conf 1)" doctor --help >"$T/help" || fail "doctor --help failed"
grep -q -- "--json" "$T/help" || fail "doctor --help lacks --json"
"$FIELDMESH" -c "$(conf 1)" doctor --bogus >/dev/null 2>&1; [ $? = 2 ] || fail "bad option is not exit 2"
"$FIELDMESH" -c "$(conf 1)" doctor extra >/dev/null 2>&1; [ $? = 2 ] || fail "an operand is not exit 2"

# ---- daemon down, then a healthy pair ----
doctor 1
expect_finding daemon problem "not running" "systemctl start fieldmeshd"
expect_finding port ok "is free"
start_node 1
start_node 2
wait_for 30 "doctor to find node1 healthy" healthy
expect_finding key ok
expect_finding certificate ok "valid for 36"
expect_finding store ok
expect_finding port ok "held by fieldmeshd"
# the text form says the same and exits 0
"$FIELDMESH" -c "$(conf 1)" doctor >"$T/text" || fail "healthy doctor exited $?: $(cat "$T/text")"
grep -q "^no problems found" "$T/text" || fail "text output: $(cat "$T/text")"
log "healthy: $(grep -c '^ok' "$T/text") checks ok"

# ---- key mode ----
chmod 644 "$key1"
doctor 1
expect_finding key problem "mode 0644" "chmod 600 $key1"
"$FIELDMESH" -c "$(conf 1)" doctor >"$T/text"; [ $? = 1 ] || fail "text doctor did not exit 1"
grep -q "fix: chmod 600 $key1" "$T/text" || fail "text output lacks the fix: $(cat "$T/text")"
chmod 600 "$key1"

# ---- certificate expiry, judged on the node's clock ----
FM_TEST_CLOCK_OFFSET_MS=$((400 * 86400000)) doctor 1
expect_finding certificate problem "expired" "trust renew new.cert"
FM_TEST_CLOCK_OFFSET_MS=$((350 * 86400000)) doctor 1
expect_finding certificate warn "expires in 1"
[ "$RC" = 0 ] || fail "a warning alone made doctor exit $RC"

# ---- a skewed peer clock: node2 restarted 10 minutes ahead ----
stop_node 2
FM_TEST_CLOCK_OFFSET_MS=600000 start_node 2
wait_for 40 "doctor to see node2's clock 600 s ahead" doctor_finds 1 clock problem "+600"
expect_finding clock problem "max_skew_ms" "timedatectl"
log "skew: $(printf '%s' "$OUT" | python3 -c 'import json,sys; print([c["what"] for c in json.load(sys.stdin)["checks"] if c["check"]=="clock"])')"

# ---- an unreachable peer ----
stop_node 2
wait_for 60 "doctor to find node2 unreachable" doctor_finds 1 peer problem "does not answer"
expect_finding peer problem "node2 (tcp://127.0.0.1:" "reachable from here"

# ---- the listen port taken by another process ----
stop_node 1
port1=$(sed -n 's/^  listen: "tcp:\/\/127.0.0.1:\([0-9]*\)"$/\1/p' "$(conf 1)")
[ -n "$port1" ] || fail "cannot read node1's port"
python3 -c 'import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); open(sys.argv[2],"w").close(); time.sleep(60)' \
    "$port1" "$T/squat.ready" &
SQUAT=$!
PIDS[squat]=$SQUAT
wait_for 30 "the squatter to listen" test -f "$T/squat.ready"
doctor 1
expect_finding port problem "taken by another process" "ss -ltnp 'sport = :$port1'"
kill "$SQUAT"; wait "$SQUAT" 2>/dev/null; unset "PIDS[squat]"

# ---- a nearly full disk: node1's files on an 8 MiB tmpfs ----
if unshare -m true 2>/dev/null; then
    mkdir -p "$T/small"
    out=$(unshare -m bash -c '
        mount -t tmpfs -o size=8m tmpfs "$1" || exit 77
        cp -a "$2" "$1/node1" || exit 1
        "$3" -c "$1/node1/node.yaml" doctor --json' _ "$T/small" "$T/tb/node1" "$FIELDMESH")
    RC=$?
    if [ "$RC" = 77 ]; then
        log "skip the disk check: cannot mount a tmpfs here"
    else
        OUT=$out
        expect_finding disk problem "KiB free" "df -h"
    fi
else
    log "skip the disk check: no unshare -m here"
fi

# ---- a broken config ----
printf 'node:\n  name: x\n  colour: red\n' >"$T/bad.yaml"
OUT=$("$FIELDMESH" -c "$T/bad.yaml" doctor --json); RC=$?
expect_finding config problem "unknown key 'colour'" "$T/bad.yaml"
FAILED=0
echo ok
