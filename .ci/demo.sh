#!/usr/bin/env bash
# The live demo: four nodes on loopback in a line — centre, county, station,
# vehicle — each a real fieldmeshd with its own LMDB store and CurveZMQ
# links. An incident reported at the vehicle crosses three hops to the
# centre; the centre's link is cut and both sides keep working; the link
# returns and every node ends with the same digest. The city is Jinhua: the
# directory is configs/jinhua.yaml (nine counties, 75 departments, ~990
# units; written by configs/gen_jinhua.py), the calls are in its districts.
set -euo pipefail
cd "$(dirname "$0")/.."
# FIELDMESH / FIELDMESHD name already-built binaries (the e2e test does this)
if [ -n "${FIELDMESH:-}" ] && [ -n "${FIELDMESHD:-}" ]; then
  FM=$FIELDMESH FMD=$FIELDMESHD
else
  bash .ci/setup.sh >/dev/null
  FM=$PWD/build/fieldmesh
  FMD=$PWD/build/fieldmeshd
fi
DIR=$(mktemp -d /tmp/fieldmesh-demo.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
cfg() { echo "$DIR/node$1/node.yaml"; }
names=(x centre county station vehicle)

# A free block of 4 loopback ports, and 4 for the consoles 80 above them.
base=${FM_PORT_BASE:-$(( 10000 + $$ % 20000 ))} # below the ephemeral ports (32768 on)
busy() { ss -ltn 2>/dev/null | awk '{print $4}' | grep -qE ":($1|$(($1+1))|$(($1+2))|$(($1+3)))\$"; }
while busy "$base" || busy $((base + 80)); do
  base=$((base + 4))
done

say "an organisation and four enrolled nodes (fieldmesh testbed)"
"$FM" testbed "$DIR" --nodes 4 --topology line --roles centre,county,station,vehicle \
  --base-port "$base" | sed -n '1,5p'

start() { "$FMD" -c "$(cfg "$1")" --log-level info 2>>"$DIR/node$1/daemon.log" & PIDS[$1]=$!; }
for i in 1 2 3 4; do start "$i"; done
sleep 1

say "each node serves its console in the browser (operator demo, password below)"
for i in 1 2 3 4; do
  printf '  node%s %-8s %s  login: demo / %s\n' "$i" "${names[$i]}" \
    "$(awk '/^url:/ {print $2}' "$DIR/node$i/console.txt")" \
    "$(awk '/^password:/ {print $2}' "$DIR/node$i/console.txt")"
done

wait_until() { # wait_until SECONDS CMD...: poll until CMD succeeds (bounds hold on a
  # loaded 2-core machine; a wait that succeeds costs only the time it took)
  local deadline=$(( $(date +%s) + $1 )); shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}
digest() { "$FM" -c "$(cfg "$1")" digest; }
all_equal() { local d; d=$(digest 1); for i in 2 3 4; do [ "$(digest "$i")" = "$d" ] || return 1; done; }
digest_table() {
  printf '%-8s %-8s %-5s %s\n' NODE ROLE OPS DIGEST
  for i in 1 2 3 4; do
    ops=$("$FM" -c "$(cfg "$i")" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["ops"])')
    printf '%-8s %-8s %-5s %s\n' "node$i" "${names[$i]}" "$ops" "$(digest "$i")"
  done
}
show_digests() { digest_table; }
# The daemons keep writing (escalations), so the table shown after a heal
# is one whose four digests were equal when read, not a second reading.
table_equal() {
  digest_table >"$DIR/digests.txt"
  [ "$(awk 'NR>1 {print $4}' "$DIR/digests.txt" | sort -u | wc -l)" -eq 1 ]
}

say "the centre publishes the Jinhua directory (counties, departments, units, dispatch rules)"
# --force: it has county boundaries and linkage plans (format version 3) and every node here reads it
"$FM" -c "$(cfg 1)" directory publish configs/jinhua.yaml --force
wait_until 60 all_equal && echo "every node holds the directory"

say "the vehicle (node4) reports a department-store fire in 婺城区; the centre is three hops away"
t0=$(date +%s%N)
id=$("$FM" -c "$(cfg 4)" incident report --category building_fire --priority 1 --lat 29.0800 \
      --lon 119.6500 --address "婺城区八一北街 百货大楼" --caller 13800000000 \
      --desc "3至5楼冒烟，有人被困" 2>"$DIR/proposal.txt")
wait_until 30 "$FM" -c "$(cfg 1)" incident show "$id"
echo "incident $id reached the centre after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
echo "proposed dispatch (printed by \`incident report\` on stderr):"
sed 's/^/  /' "$DIR/proposal.txt"

say "a burst: the county takes 50 calls in a row (金东区)"
for k in $(seq 1 50); do
  "$FM" -c "$(cfg 2)" incident report --category traffic_accident --priority 3 \
    --lat "29.$((1000 + k))" --lon "119.$((6900 + k))" --desc "collision $k" >/dev/null 2>&1
done
wait_until 60 all_equal && echo "all four nodes hold all 51 incidents"
"$FM" -c "$(cfg 4)" incident list | sed -n "1,4p"

say "the centre's link is cut (its daemon stops; its console keeps working)"
kill "${PIDS[1]}"; wait "${PIDS[1]}" 2>/dev/null || true; PIDS[1]=
units=$("$FM" -c "$(cfg 2)" dispatch suggest "$id" --json |
        python3 -c 'import json,sys; print(" ".join(u["unit"] for u in json.load(sys.stdin)["units"][:3]))')
args=(); for u in $units; do args+=(--unit "$u"); done
echo "the county dispatches while cut off from the centre:"
mapfile -t tickets < <("$FM" -c "$(cfg 2)" dispatch "$id" "${args[@]}")
printf '  ticket %s\n' "${tickets[@]}"
echo "the first unit radios in; the county records its progress on the unit's behalf:"
"$FM" -c "$(cfg 2)" ticket ack "${tickets[0]}"
"$FM" -c "$(cfg 2)" ticket enroute "${tickets[0]}"
"$FM" -c "$(cfg 2)" ticket arrive "${tickets[0]}"
wait_until 30 "$FM" -c "$(cfg 4)" ticket show "${tickets[0]}"
"$FM" -c "$(cfg 4)" incident note "$id" "已到场，3楼两人被困"
pump=$("$FM" -c "$(cfg 3)" resource add pump --depot station-east --qty 6)
"$FM" -c "$(cfg 3)" resource consume "$pump" 2
"$FM" -c "$(cfg 1)" incident note "$id" "指挥中心：通知燃气公司"
gas=$("$FM" -c "$(cfg 1)" incident report --category gas_leak --priority 2 --lat 29.31 --lon 120.07 \
      --desc "义乌 gas smell" 2>/dev/null)
echo "the centre reported $gas while cut off"
"$FM" -c "$(cfg 1)" peers 2>/dev/null || true
show_digests

say "the link returns"
start 1
wait_until 60 table_equal
cat "$DIR/digests.txt"
"$FM" -c "$(cfg 1)" dispatch status "$id" 2>/dev/null || true
"$FM" -c "$(cfg 1)" incident show "$id" | sed -n '/timeline/,$p'
"$FM" -c "$(cfg 4)" incident show "$gas" | sed -n '1,4p'
"$FM" -c "$(cfg 2)" conflicts
"$FM" -c "$(cfg 2)" peers

say "done: every replica converged. Data and logs are in $DIR"
# run in a terminal, the mesh stays up for clicking around the consoles
if [ -t 1 ] && [ -z "${FM_DEMO_EXIT:-}" ]; then
  echo "the four nodes keep running: open the console URLs above; Ctrl-C stops them"
  wait
fi
