#!/usr/bin/env bash
# A fuzz campaign: runs every libFuzzer target of a clang build (-DFM_FUZZ=ON)
# one at a time, at the lowest priority, each for SECONDS, on a scratch copy
# of its checked-in corpus, and prints per target the inputs run and whether
# it found a crash. The checked-in corpora are not touched; grow them after
# the run with `tests/fuzz/campaign.sh --merge BUILD WORK`, which adds only
# the inputs that bring new coverage (libFuzzer's -merge=1).
#
#   tests/fuzz/campaign.sh BUILD-DIR SECONDS WORK-DIR [TARGET...]
#   tests/fuzz/campaign.sh --merge BUILD-DIR WORK-DIR [TARGET...]
#
# Results: WORK-DIR/<target>.log (libFuzzer's output, -print_final_stats)
# and WORK-DIR/summary.txt (one line per target); a crash is written as
# WORK-DIR/<target>/crash-* and the run goes on with the next target.
set -uo pipefail
src="$(cd "$(dirname "$0")/../.." && pwd)"
merge=0
if [[ "${1:-}" == "--merge" ]]; then merge=1; shift; fi
if [[ $merge == 0 && $# -lt 3 ]] || [[ $merge == 1 && $# -lt 2 ]]; then
  echo "usage: $0 BUILD-DIR SECONDS WORK-DIR [TARGET...] | --merge BUILD-DIR WORK-DIR [TARGET...]" >&2
  exit 2
fi
build="$1"; shift
if [[ $merge == 0 ]]; then secs="$1"; shift; fi
work="$1"; shift
targets=("$@")
if [[ ${#targets[@]} == 0 ]]; then
  for f in "$src"/tests/fuzz/fuzz_*.c; do targets+=("$(basename "$f" .c)"); done
fi
mkdir -p "$work"
work="$(cd "$work" && pwd)"
build="$(cd "$build" && pwd)"

for t in "${targets[@]}"; do
  bin="$build/$t"
  [[ -x "$bin" ]] || { echo "$t: no binary at $bin (build with -DFM_FUZZ=ON)" >&2; exit 1; }
  if [[ $merge == 1 ]]; then
    # Add to the checked-in corpus only what brings new coverage.
    "$bin" -merge=1 "$src/tests/fuzz/corpus/$t" "$work/$t" >"$work/$t.merge.log" 2>&1
    echo "$t: merged, corpus now $(ls "$src/tests/fuzz/corpus/$t" | wc -l) files"
    continue
  fi
  mkdir -p "$work/$t"
  cp -n "$src/tests/fuzz/corpus/$t"/* "$work/$t"/ 2>/dev/null
  # A private copy of the binary, so a rebuild during the run changes nothing.
  cp "$bin" "$work/$t.bin"
  (cd "$work/$t" && nice -n 19 "../$t.bin" -max_total_time="$secs" -print_final_stats=1 \
     -artifact_prefix="$work/$t/" -max_len=65536 -timeout=25 . ) >"$work/$t.log" 2>&1
  rc=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/$t.log" | grep -o '[0-9]*$')
  crashes=$(ls "$work/$t"/crash-* "$work/$t"/leak-* "$work/$t"/timeout-* "$work/$t"/oom-* 2>/dev/null | wc -l)
  echo "$t: ${runs:-?} inputs in ${secs} s, exit $rc, $crashes crash/leak/timeout/oom files" | tee -a "$work/summary.txt"
  rm -f "$work/$t.bin"
done
