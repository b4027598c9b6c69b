#!/usr/bin/env bash
# test_demo.sh — the README's first command must keep working: run the live
# mesh demo (.ci/demo.sh) against the built binaries and check that it ends
# with every replica converged. The demo waits for gossip with bounds that
# hold on a loaded machine (up to 60 s each), so the whole gets 420 s.
set -u
if [ -z "${FIELDMESH:-}" ] || [ -z "${FIELDMESHD:-}" ] || [ -z "${FM_SRC:-}" ]; then
    echo "SKIP: FIELDMESH, FIELDMESHD and FM_SRC must be set"
    exit 77
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
if ! timeout 420 bash "$FM_SRC/.ci/demo.sh" >"$out" 2>&1; then
    tail -40 "$out"
    echo "FAIL: the demo exited non-zero"
    exit 1
fi
grep -q "reached the centre after" "$out" || { tail -40 "$out"; echo "FAIL: no cross-mesh report"; exit 1; }
grep -q "every replica converged" "$out" || { tail -40 "$out"; echo "FAIL: no convergence"; exit 1; }
# the demo's last digest table: four equal digests
last=$(grep -E '^node[1-4] +[a-z]+ +[0-9]+ +[0-9a-f]{64}$' "$out" | tail -4 | awk '{print $4}' | sort -u | wc -l)
[ "$last" -eq 1 ] || { tail -40 "$out"; echo "FAIL: digests differ at the end"; exit 1; }
rm -rf "$(grep -o '/tmp/fieldmesh-demo\.[A-Za-z0-9]*' "$out" | tail -1)"
echo PASS
