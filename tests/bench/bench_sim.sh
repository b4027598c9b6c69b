#!/usr/bin/env bash
# bench_sim.sh — city-scale figures from the network simulator (issue 13).
#
#   (a) propagation: 2,000 nodes, random graph of degree 5-8, 20 ms links,
#       200 writers: p99 of the time a new op takes to reach every node,
#       beside the shortest-path bound measured on the same graph (hops x
#       latency) and their ratio; op transmissions per delivery (the
#       physical limit is 1.0).
#   (b) partition: 2,000 nodes, half cut off for --cut-ms while both sides
#       write, then healed: time until every node holds every op, and the
#       bytes moved until then beside the bytes of the op copies missing
#       at the heal, and of them the VECTOR and RECON bytes; run twice, with
#       every engine in wire version 1 (--v1 2000: before range
#       reconciliation) and in version 2, for the ratio before and after.
#   (c) the heal as issue 13 states it: 2,000 nodes, half cut off for an
#       hour while each side writes 100 ops/min, then healed; the same
#       figures as (b). An hour of simulated time took 64 min of wall time
#       and 8 GB here, so the cut lasts FM_SIM_CUT_MIN minutes (default 10,
#       9 min of wall time; FM_SIM_CUT_MIN=60 for the whole hour).
# usage: bench_sim.sh [FM_SIM] [SEED]   (FM_SIM defaults to build/fm_sim)
# Every figure is simulated time; the wall time depends on the machine.
set -euo pipefail
sim=${1:-build/fm_sim}
seed=${2:-1}
echo "== (a) propagation, 2000 nodes =="
time "$sim" --nodes 2000 --writers 200 --ops-per-min 300 --write-until 20000 \
    --duration 30000 --warmup 10000 --seed "$seed"
for v1 in 2000 0; do
    echo "== (b) partition and heal, 2000 nodes, --v1 $v1 =="
    time "$sim" --nodes 2000 --writers 200 --ops-per-min 200 --cut 5000:0.5 --heal 35000 \
        --write-until 35000 --duration 70000 --seed "$seed" --v1 "$v1"
done
cut_min=${FM_SIM_CUT_MIN:-10}
heal=$((5000 + cut_min * 60000))
echo "== (c) partition of ${cut_min} min and heal, 2000 nodes =="
time "$sim" --nodes 2000 --writers 200 --ops-per-min 200 --cut 5000:0.5 --heal "$heal" \
    --write-until "$heal" --duration $((heal + 35000)) --seed "$seed"
