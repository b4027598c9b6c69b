# cli_lib.sh — helpers sourced by the CLI end-to-end tests (not a test
# itself: ctest runs only test_*.sh).
#
# Provides a private temp dir ($T, removed on exit), `run` which captures
# stdout/stderr/exit status of one command, and small assertions that
# print what was expected and what came out.

: "${FIELDMESH:?set FIELDMESH to the fieldmesh binary}"
if [ ! -x "$FIELDMESH" ]; then
    echo "skip: $FIELDMESH is not executable" >&2
    exit 77
fi
if ! command -v python3 >/dev/null 2>&1; then
    echo "skip: python3 is needed to parse --json output" >&2
    exit 77
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/fm-e2e.XXXXXX")
trap 'rm -rf "$T"' EXIT
# No config from the environment leaks into a test.
unset FIELDMESH_CONFIG XDG_CONFIG_HOME XDG_DATA_HOME
export HOME="$T/home"
mkdir -p "$HOME"

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# run CMD ARGS...: sets OUT, ERR and RC.
run() {
    "$@" >"$T/.out" 2>"$T/.err"
    RC=$?
    OUT=$(cat "$T/.out")
    ERR=$(cat "$T/.err")
    # under -DFM_SANITIZE=ON a sanitizer report fails the test whatever the
    # exit status (an expected exit 1 must not hide one)
    case "$ERR" in
    *"Sanitizer"* | *"runtime error:"*) fail "sanitizer report from: $*"$'\n'"$ERR" ;;
    esac
}

# expect CODE CMD ARGS...: run and require exit status CODE.
expect() {
    local want=$1
    shift
    run "$@"
    if [ "$RC" != "$want" ]; then
        echo "stdout: $OUT" >&2
        echo "stderr: $ERR" >&2
        fail "expected exit $want, got $RC from: $*"
    fi
}

# contains TEXT NEEDLE [what]
contains() {
    case "$1" in
    *"$2"*) ;;
    *) fail "${3:-output} lacks '$2'; it was: $1" ;;
    esac
}

# lacks TEXT NEEDLE [what]
lacks() {
    case "$1" in
    *"$2"*) fail "${3:-output} should not contain '$2'; it was: $1" ;;
    *) ;;
    esac
}

# pyjson 'python expression using d' : evaluates against json.loads($OUT);
# the expression must be true.
pyjson() {
    printf '%s' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
ok = eval(sys.argv[1])
if not ok:
    print("json check failed: " + sys.argv[1], file=sys.stderr)
    print(json.dumps(d, indent=1, ensure_ascii=False)[:4000], file=sys.stderr)
    sys.exit(1)
' "$1" || fail "JSON check: $1"
}

# pyget 'python expression using d' : prints its value.
pyget() {
    printf '%s' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(eval(sys.argv[1]))
' "$1"
}

# A fresh testbed of N nodes in $T/$1; NODE1..NODEn hold "-c <config>".
make_testbed() {
    local dir=$1 n=$2
    shift 2
    expect 0 "$FIELDMESH" testbed "$T/$dir" --nodes "$n" --base-port "${FM_PORT_BASE:-17400}" "$@"
}
