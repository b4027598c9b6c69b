#!/usr/bin/env bash
# test_progress.sh — `bundle export`, `bundle import` and `rebuild` show
# their progress on a terminal (one stderr line, rewritten and cleared at
# the end, ending at "N of N ops (100%)"), and print nothing extra when
# stderr is not a terminal: stdout and stderr are then what they always
# were. The terminal is `script`'s pseudo-terminal, as in test_backup.
set -u
. "$(dirname "$0")/cli_lib.sh"
command -v script >/dev/null || { echo "skip: script (util-linux) is not installed" >&2; exit 77; }
make_testbed tb 2
C1=(-c "$T/tb/node1/node.yaml")
C2=(-c "$T/tb/node2/node.yaml")
"$FIELDMESH" bundle keygen --org "$T/tb/org" >/dev/null 2>&1 || fail "bundle keygen"
for i in 1 2; do cp "$T/tb/org/bundle.key" "$T/tb/node$i/data/bundle.key"; done
for k in 1 2 3 4 5 6; do
    expect 0 "$FIELDMESH" "${C1[@]}" incident report --category fire --lat 52.$k --lon 4.$k \
        --desc "fire $k"
done
expect 0 "$FIELDMESH" "${C1[@]}" log --json
all=$(pyget 'len(d)')
[ "$all" -ge 6 ] || fail "node1 holds $all ops"

# ---- not a terminal: nothing extra ----
expect 0 "$FIELDMESH" "${C1[@]}" bundle export "$T/plain.fmb"
[ "$OUT" = "$all" ] || fail "export printed '$OUT', expected '$all'"
lacks "$ERR" "exporting the ops" "export's stderr off a terminal"
lacks "$ERR" $'\r' "export's stderr off a terminal"
expect 0 "$FIELDMESH" "${C2[@]}" bundle import "$T/plain.fmb"
lacks "$ERR" "importing the ops" "import's stderr off a terminal"
expect 0 "$FIELDMESH" "${C2[@]}" rebuild
digest=$OUT
[ -z "$ERR" ] || fail "rebuild printed on stderr off a terminal: $ERR"
expect 0 "$FIELDMESH" "${C2[@]}" digest
[ "$OUT" = "$digest" ] || fail "the rebuild's digest differs from digest"

# ---- on a terminal: progress, then cleared ----
tty_run() { script -qec "$*" /dev/null >"$T/tty.out" 2>&1 || { cat "$T/tty.out"; fail "$*"; }; }
tty_run "$FIELDMESH ${C1[*]} bundle export $T/tty.fmb"
grep -q "exporting the ops: $all of $all ops (100%)" "$T/tty.out" ||
    { cat -A "$T/tty.out"; fail "no export progress on a terminal"; }
grep -q $'\033\[K' "$T/tty.out" || fail "the progress line is not cleared"
tty_run "$FIELDMESH ${C2[*]} bundle import $T/tty.fmb"
grep -q "importing the ops: $all of $all ops (100%)" "$T/tty.out" ||
    { cat -A "$T/tty.out"; fail "no import progress on a terminal"; }
expect 0 "$FIELDMESH" "${C2[@]}" log --json
n2=$(pyget 'len(d)')
tty_run "$FIELDMESH ${C2[*]} rebuild"
grep -q "re-applying the ops: $n2 of $n2 ops (100%)" "$T/tty.out" ||
    { cat -A "$T/tty.out"; fail "no rebuild progress on a terminal"; }
grep -q "$digest" "$T/tty.out" || fail "the rebuild's digest is missing on a terminal"
echo "ok"
