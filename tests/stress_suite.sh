#!/usr/bin/env bash
# stress_suite.sh — run the whole ctest suite again and again while a CPU
# hog keeps both cores busy, to find tests that pass on a quiet machine and
# fail on a loaded one (issue 15). Each run writes its own log (and the
# full output of every test, run*.full.log, where the e2e tests' "waited"
# lines show how close each wait came to its bound); a summary line per
# run and the names of failed tests go to the summary file.
#
#   tests/stress_suite.sh BUILD_DIR RUNS [LOG_DIR]
#
#   FM_STRESS_HOG=0    do not start a hog (the machine is loaded already)
#   FM_STRESS_HOG=N    N busy workers (default: one per core), niced to 19
#                      so they take the cores only when the tests idle
#   FM_STRESS_J=2      ctest parallelism (default 2)
#   FM_STRESS_R=REGEX  only the tests matching REGEX (ctest -R)
#
# The hog is stress-ng (Debian package stress-ng) when installed, else a
# busy loop per worker; either way it is stopped when this script exits.
set -u

if [ $# -lt 2 ] || [ "$1" = "--help" ]; then
    sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
    [ "${1:-}" = "--help" ] && exit 0
    exit 2
fi
build=$1 runs=$2 logdir=${3:-$1/stress-logs}
case "$runs" in '' | *[!0-9]*) echo "RUNS must be a number" >&2; exit 2 ;; esac
[ -f "$build/CTestTestfile.cmake" ] || { echo "$build is not a ctest build dir" >&2; exit 2; }
mkdir -p "$logdir" || exit 1
summary="$logdir/summary.txt"

hog_pids=()
stop_hog() {
    local p
    for p in "${hog_pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${hog_pids[@]}"; do wait "$p" 2>/dev/null; done
    hog_pids=()
}
trap stop_hog EXIT

workers=${FM_STRESS_HOG:-$(nproc)}
if [ "$workers" -gt 0 ]; then
    if command -v stress-ng >/dev/null 2>&1; then
        nice -n 19 stress-ng --cpu "$workers" --quiet &
        hog_pids+=($!)
    else
        for _ in $(seq 1 "$workers"); do
            nice -n 19 bash -c 'while :; do :; done' &
            hog_pids+=($!)
        done
    fi
fi

ctest_args=(--test-dir "$build" -j "${FM_STRESS_J:-2}" --output-on-failure)
[ -n "${FM_STRESS_R:-}" ] && ctest_args+=(-R "$FM_STRESS_R")

echo "# $(date -u +%FT%TZ) $runs runs of ctest in $build, hog workers: $workers" >>"$summary"
fails=0
for r in $(seq 1 "$runs"); do
    log="$logdir/run$r.log"
    t0=$(date +%s)
    ctest "${ctest_args[@]}" >"$log" 2>&1
    rc=$?
    failed=$(grep -E '^[[:space:]]*[0-9]+ - .* \((Failed|Timeout|SEGFAULT|Subprocess aborted|Exception)\)' "$log" |
             sed -E 's/^[[:space:]]*[0-9]+ - //' | tr '\n' ' ')
    # every test's whole output (ctest keeps only the last run's)
    cp "$build/Testing/Temporary/LastTest.log" "$logdir/run$r.full.log" 2>/dev/null
    [ "$rc" -ne 0 ] && fails=$((fails + 1))
    echo "run $r: rc=$rc $(( $(date +%s) - t0 )) s load $(cut -d' ' -f1-3 /proc/loadavg) ${failed:+failed: $failed}" |
        tee -a "$summary"
done
echo "# $runs runs, $fails with a failure" | tee -a "$summary"
[ "$fails" -eq 0 ]
