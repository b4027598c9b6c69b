#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite twice: a normal build and an
# AddressSanitizer + UndefinedBehaviorSanitizer build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup.sh
ctest --test-dir build --output-on-failure -j2

# A Release build must compile too (-O3 finds warnings -O2 does not).
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-release -j"$(nproc)" --target fieldmesh fieldmeshd

cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DFM_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$(nproc)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j2

# Every libFuzzer target for a short while (20 s each) in a clang build;
# a crash fails CI. Corpora are copied, not grown: grow them with
# tests/fuzz/campaign.sh (docs/fuzzing.md).
if command -v clang >/dev/null 2>&1; then
  cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DFM_FUZZ=ON >/dev/null
  cmake --build build-fuzz -j"$(nproc)"
  rm -rf build-fuzz/ci-campaign
  bash tests/fuzz/campaign.sh build-fuzz 20 build-fuzz/ci-campaign
  if grep -v ', exit 0, 0 crash' build-fuzz/ci-campaign/summary.txt; then
    echo "a fuzz target failed: see build-fuzz/ci-campaign/*.log" >&2
    exit 1
  fi
else
  echo "clang not installed: the fuzz run is skipped" >&2
fi
