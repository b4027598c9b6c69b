#!/usr/bin/env bash
# The live demo: four nodes on loopback in a line — centre, county, station,
# vehicle — each a real fieldmeshd with its own LMDB store and CurveZMQ
# links. An incident reported at the vehicle crosses three hops to the
# centre; the centre's link is cut and both sides keep working; the link
# returns and every node ends with the same digest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup.sh >/dev/null
FM=$PWD/build/fieldmesh
FMD=$PWD/build/fieldmeshd
DIR=$(mktemp -d /tmp/fieldmesh-demo.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
cfg() { echo "$DIR/node$1/node.yaml"; }
names=(x centre county station vehicle)

# A free block of 4 loopback ports.
base=$(( 30000 + $$ % 20000 ))
while ss -ltn 2>/dev/null | awk '{print $4}' | grep -qE ":($base|$((base+1))|$((base+2))|$((base+3)))\$"; do
  base=$((base + 4))
done

say "an organisation and four enrolled nodes (fieldmesh testbed)"
"$FM" testbed "$DIR" --nodes 4 --topology line --roles centre,county,station,vehicle \
  --base-port "$base" | sed -n '1,5p'

start() { "$FMD" -c "$(cfg "$1")" --log-level info 2>>"$DIR/node$1/daemon.log" & PIDS[$1]=$!; }
for i in 1 2 3 4; do start "$i"; done
sleep 1

wait_until() { # wait_until SECONDS CMD...: poll until CMD succeeds
  local deadline=$(( $(date +%s) + $1 )); shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}
digest() { "$FM" -c "$(cfg "$1")" digest; }
all_equal() { local d; d=$(digest 1); for i in 2 3 4; do [ "$(digest "$i")" = "$d" ] || return 1; done; }
show_digests() {
  printf '%-8s %-8s %-5s %s\n' NODE ROLE OPS DIGEST
  for i in 1 2 3 4; do
    ops=$("$FM" -c "$(cfg "$i")" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["ops"])')
    printf '%-8s %-8s %-5s %s\n' "node$i" "${names[$i]}" "$ops" "$(digest "$i")"
  done
}

say "the vehicle (node4) reports a fire; the centre is three hops away"
t0=$(date +%s%N)
id=$("$FM" -c "$(cfg 4)" incident report --category fire --priority 1 --lat 30.2741 --lon 120.1551 \
      --address "Yan'an Rd 98, department store" --caller 13800000000 --desc "smoke on 3rd floor")
wait_until 10 "$FM" -c "$(cfg 1)" incident show "$id"
echo "incident $id reached the centre after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
"$FM" -c "$(cfg 1)" incident show "$id" | sed -n '1,9p'

say "a burst: the county takes 50 calls in a row"
for k in $(seq 1 50); do
  "$FM" -c "$(cfg 2)" incident report --category traffic --priority 3 \
    --lat "30.$((2000 + k))" --lon "120.$((1000 + k))" --desc "collision $k" >/dev/null
done
wait_until 20 all_equal && echo "all four nodes hold all 51 incidents"
"$FM" -c "$(cfg 4)" incident list | sed -n "1,6p"

say "the centre's link is cut (its daemon stops; its console keeps working)"
kill "${PIDS[1]}"; wait "${PIDS[1]}" 2>/dev/null || true; PIDS[1]=
"$FM" -c "$(cfg 2)" incident status "$id" dispatched
"$FM" -c "$(cfg 4)" incident note "$id" "crew on scene, two trapped on 3rd floor"
"$FM" -c "$(cfg 4)" incident status "$id" onscene
pump=$("$FM" -c "$(cfg 3)" resource add pump --depot station-east --qty 6)
"$FM" -c "$(cfg 3)" resource consume "$pump" 2
"$FM" -c "$(cfg 1)" incident note "$id" "centre: notify gas company"
gas=$("$FM" -c "$(cfg 1)" incident report --category gas --priority 2 --lat 30.26 --lon 120.17 --desc "gas smell")
echo "centre reported $gas while cut off"
"$FM" -c "$(cfg 1)" peers
show_digests

say "the link returns"
start 1
wait_until 30 all_equal
show_digests
"$FM" -c "$(cfg 1)" incident show "$id" | sed -n '/timeline/,$p'
"$FM" -c "$(cfg 4)" incident show "$gas" | sed -n '1,4p'
"$FM" -c "$(cfg 2)" peers

say "done: every replica converged. Data and logs are in $DIR"
