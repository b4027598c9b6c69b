# lib_gossip.sh — shared helpers for the multi-node gossip tests
# (sourced by tests/e2e/test_gossip_*.sh; not a test itself).
#
# Every test: a private temp dir, loopback ports picked from the pid and
# checked free, real fieldmeshd processes started from `fieldmesh testbed`
# configs, wait loops with deadlines, and a trap that kills every daemon it
# started (and prints their logs when the test failed).

set -u

if [ -z "${FIELDMESH:-}" ] || [ -z "${FIELDMESHD:-}" ] || [ ! -x "$FIELDMESH" ] || [ ! -x "$FIELDMESHD" ]; then
    echo "SKIP: FIELDMESH and FIELDMESHD must name the built binaries"
    exit 77
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/fm-gossip.XXXXXX")
declare -A PIDS=()
FAILED=1

log() { echo "# $(date +%H:%M:%S.%N | cut -c1-12) $*"; }

fail() {
    echo "FAIL: $*"
    exit 1
}

cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null
    done
    sleep 0.2
    for p in "${PIDS[@]}"; do
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    if [ "$FAILED" -ne 0 ]; then
        for f in "$T"/daemon*.log; do
            [ -f "$f" ] || continue
            echo "---- $f (last 40 lines)"
            tail -n 40 "$f"
        done
    fi
    rm -rf "$T"
}
trap cleanup EXIT

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pick_ports N: sets BASE so that BASE..BASE+N-1 are free loopback ports.
pick_ports() {
    local n=$1 try p ok
    # ctest hands each e2e test its own block (tests/tests.cmake).
    # By hand, a block between 10000 and 32000: below Linux's ephemeral
    # ports (32768 on), which outgoing connections take at random.
    BASE=${FM_PORT_BASE:-$(( $$ % 22000 + 10000 ))}
    for try in $(seq 1 50); do
        ok=1
        for p in $(seq "$BASE" $(( BASE + n - 1 ))); do
            port_free "$p" || { ok=0; break; }
        done
        [ "$ok" -eq 1 ] && return 0
        BASE=$(( (BASE - 10000 + 137) % 22000 + 10000 ))
    done
    fail "no free port range found"
}

conf() { echo "$T/tb/node$1/node.yaml"; }
fm() { local i=$1; shift; "$FIELDMESH" -c "$(conf "$i")" "$@"; }

# testbed N TOPOLOGY
testbed() {
    pick_ports "$1"
    "$FIELDMESH" testbed "$T/tb" --nodes "$1" --topology "$2" --base-port "$BASE" >/dev/null 2>"$T/testbed.err" ||
        fail "testbed failed"
}

start_node() {
    local i=$1
    "$FIELDMESHD" -c "$(conf "$i")" --log-level "${FM_DAEMON_LOG:-info}" 2>>"$T/daemon$i.log" &
    PIDS[$i]=$!
}

# stop_node I: SIGTERM and require a clean exit (status 0) within 30 s (a
# hang detector: under ASan and load, shutdown and the leak check at exit
# can take seconds).
stop_node() {
    local i=$1 p=${PIDS[$1]} k rc
    kill -TERM "$p"
    for k in $(seq 1 300); do
        kill -0 "$p" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$p" 2>/dev/null && fail "node$i did not stop within 30 s of SIGTERM"
    wait "$p"
    rc=$?
    unset "PIDS[$i]"
    [ "$rc" -eq 0 ] || fail "node$i exited with status $rc after SIGTERM"
}

now_ms() { date +%s%3N; }

# wait_for SECONDS DESCRIPTION CMD...: the one way these tests wait for
# something another node or process does (gossip, a daemon starting, a
# connection dropping). Polls CMD every 0.1 s until it succeeds; after
# SECONDS (a whole number) fails the test, showing CMD's last output. An
# assertion about what another node wrote goes through here, never right
# after the write nor after a fixed sleep: on a loaded 2-core machine gossip
# takes seconds. Bounds are generous (tens of seconds) since a wait that
# succeeds costs only the time it took; a wait over 1 s is logged with its
# bound (docs/testing.md).
wait_for() {
    local secs=$1 what=$2 t0 end polls=0
    shift 2
    t0=$(now_ms)
    end=$(( t0 + secs * 1000 ))
    while :; do
        polls=$((polls + 1))
        if "$@" >"$T/.wait.out" 2>&1; then
            # how close a wait came to its bound (tests/stress_suite.sh)
            [ $(( $(now_ms) - t0 )) -lt 1000 ] ||
                log "waited $(( $(now_ms) - t0 )) ms of ${secs}000 ($polls polls) for: $what"
            return 0
        fi
        [ "$(now_ms)" -lt "$end" ] || break
        sleep 0.1
    done
    echo "last output of: $*"
    tail -n 20 "$T/.wait.out"
    fail "timed out after ${secs}s waiting for: $what"
}

# log_ms FILE PATTERN: the time (ms since the epoch) of the first daemon log
# line in FILE matching PATTERN (grep -E); fails when there is none. Lets a
# test measure when a daemon did something without counting the time the
# test's own polling took.
log_ms() {
    local line
    line=$(grep -m1 -E "$2" "$1") || return 1
    date -d "${line%% *}" +%s%3N
}

digest() { fm "$1" digest; }

# daemon_up I: node I's daemon answers on its control socket (it holds the
# store's lock and runs its sync engine).
daemon_up() { fm "$1" status --json | grep -q '"daemon_running": *true'; }

# digests_equal I J ...: all named nodes have the same state digest.
digests_equal() {
    local first d i
    first=$(digest "$1") || return 1
    for i in "${@:2}"; do
        d=$(digest "$i") || return 1
        [ "$d" = "$first" ] || return 1
    done
}

# op_ids I: "author seq hash" of every op node I stores, sorted.
op_ids() {
    fm "$1" log --json | awk -F'"' '
        /"author":/ { a = $4 }
        /"seq":/    { s = $3; gsub(/[^0-9]/, "", s) }
        /"hash":/   { print a, s, $4 }' | sort
}

node_key() { cat "$T/tb/node$1/data/node.key.pub" | tr -d "[:space:]"; }
