#!/usr/bin/env bash
# test_gossip_chaos.sh — 10 real daemons on a random connected mesh (a ring
# plus random chords, every node of degree 3 or 4), four of them taking
# continuous writes through the CLI (incident reports, notes, status moves,
# stock consumption) while the script kill -9s random daemons and restarts
# them, several rounds. Then the writes stop, every daemon is killed -9 once
# more and started again, and within a deadline:
#   - every node's state digest is equal and so is every node's version
#     vector (`status --json` heads);
#   - every write the CLI acknowledged (exit 0) is on every node: each
#     writer's log length is exactly 1 (its certificate) + its acknowledged
#     writes, every reported incident id is listed everywhere, and the stock
#     is exactly the initial quantity minus every acknowledged consumption.
# The random choices come from a seed, printed; FM_SEED replays it.
# FM_CHAOS_SECS (default 24) sets how long the writes and kills go on.
. "$(dirname "$0")/lib_gossip.sh"

N=10
WRITERS=4
CHAOS_SECS=${FM_CHAOS_SECS:-24}
SEED=${FM_SEED:-$(( $(date +%s%N) % 1000000 ))}
echo "# seed $SEED (replay with FM_SEED=$SEED)"
RANDOM=$SEED
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 is needed to read --json"; exit 77; }

testbed "$N" line

# ---- a random mesh: ring, then chords until every degree is >= 3 (max 4)
declare -A EDGE=()
declare -a DEG=()
for i in $(seq 1 "$N"); do DEG[$i]=0; done
add_edge() { # a b
    EDGE["$1,$2"]=1
    EDGE["$2,$1"]=1
    DEG[$1]=$((DEG[$1] + 1))
    DEG[$2]=$((DEG[$2] + 1))
}
for i in $(seq 1 "$N"); do add_edge "$i" $((i % N + 1)); done
for tries in $(seq 1 500); do
    low=()
    for i in $(seq 1 "$N"); do [ "${DEG[$i]}" -lt 3 ] && low+=("$i"); done
    [ "${#low[@]}" -eq 0 ] && break
    a=${low[$((RANDOM % ${#low[@]}))]}
    b=$((RANDOM % N + 1))
    [ "$a" -eq "$b" ] || [ -n "${EDGE["$a,$b"]:-}" ] || [ "${DEG[$b]}" -ge 4 ] && continue
    add_edge "$a" "$b"
done
edges=""
for i in $(seq 1 "$N"); do
    for j in $(seq $((i + 1)) "$N"); do [ -n "${EDGE["$i,$j"]:-}" ] && edges="$edges $i-$j"; done
done
log "mesh edges:$edges"

# rewrite each node's peer list (testbed wrote the line's neighbours)
for i in $(seq 1 "$N"); do
    c=$(conf "$i")
    {
        for j in $(seq 1 "$N"); do
            [ -n "${EDGE["$i,$j"]:-}" ] || continue
            printf '    - endpoint: "tcp://127.0.0.1:%d"\n      key: %s\n      name: "node%d"\n' \
                $((BASE + j - 1)) "$(node_key "$j")" "$j"
        done
    } >"$T/peers$i"
    awk -v f="$T/peers$i" '
        /^  peers:/ { print "  peers:"; while ((getline l < f) > 0) print l; skip = 1; next }
        skip && /^    / { next }
        { skip = 0; print }' "$c" >"$c.new" && mv "$c.new" "$c"
    grep -c '^    - endpoint:' "$c" | grep -qx "${DEG[$i]}" || fail "node$i config has the wrong peers"
done
"$FIELDMESH" -c "$(conf 1)" peers >/dev/null 2>&1 || fail "rewritten config does not load"

for i in $(seq 1 "$N"); do start_node "$i"; done

# ---- shared entities, made at node1 before the chaos
STOCK0=1000000
shared=()
for k in 1 2 3; do
    shared+=("$(fm 1 incident report --category flood --lat 51.9 --lon 4.4$k --desc "shared $k")") ||
        fail "report failed"
done
stock=$(fm 1 resource add sandbag --depot south --qty "$STOCK0") || fail "resource add failed"
SETUP1=4 # ops node1 made here
wait_for 60 "shared entities on every node" digests_equal $(seq 1 "$N")
log "shared entities on all $N nodes"

# ---- the writers: four distinct random nodes
writers=()
while [ "${#writers[@]}" -lt "$WRITERS" ]; do
    w=$((RANDOM % N + 1))
    case " ${writers[*]} " in *" $w "*) continue ;; esac
    writers+=("$w")
done
log "writers: ${writers[*]}"

# writer I: writes until $T/stop exists; every acknowledged write appends a
# line to $T/acked$I ("report ID", "note", "status", "consume"), every
# failed one a line to $T/failed$I
writer() {
    local i=$1 k=0 id out own=() moved=0 rc
    while [ ! -e "$T/stop" ]; do
        k=$((k + 1))
        case $((k % 6)) in
            0) out=$(fm "$i" incident report --category rescue --lat 52.$i --lon 5.$k \
                        --desc "w$i report $k" 2>>"$T/err$i")
               rc=$?
               if [ "$rc" -eq 0 ] && [ -n "$out" ]; then
                   own+=("$out")
                   echo "report $out" >>"$T/acked$i"
               else
                   echo "report rc=$rc" >>"$T/failed$i"
               fi ;;
            3) fm "$i" resource consume "$stock" 1 >/dev/null 2>>"$T/err$i"
               rc=$?
               [ "$rc" -eq 0 ] && echo consume >>"$T/acked$i" || echo "consume rc=$rc" >>"$T/failed$i" ;;
            4) if [ "$moved" -lt "${#own[@]}" ]; then
                   fm "$i" incident status "${own[$moved]}" dispatched >/dev/null 2>>"$T/err$i"
                   rc=$?
                   moved=$((moved + 1))
                   [ "$rc" -eq 0 ] && echo status >>"$T/acked$i" || echo "status rc=$rc" >>"$T/failed$i"
               fi ;;
            *) fm "$i" incident note "${shared[$((k % 3))]}" "w$i note $k" >/dev/null 2>>"$T/err$i"
               rc=$?
               [ "$rc" -eq 0 ] && echo note >>"$T/acked$i" || echo "note rc=$rc" >>"$T/failed$i" ;;
        esac
    done
}
for i in $(seq 1 "$N"); do : >"$T/acked$i"; : >"$T/failed$i"; done
wpids=()
for w in "${writers[@]}"; do
    writer "$w" &
    wpids+=($!)
done

# ---- chaos: every ~1.5 s kill -9 one to three random daemons, restart
# them 0.2-1.2 s later
# The chaos lasts CHAOS_SECS, and longer (up to 4x) until the writers have
# had at least MIN_ACKED writes acknowledged: on a loaded 2-core machine
# under ASan a CLI write can take seconds, and a fixed time would then
# test too little (issue 15: a bound that holds under load, not a guess).
MIN_ACKED=40
acked_now() { cat "$T"/acked* 2>/dev/null | wc -l; }
t_start=$(date +%s)
t_end=$(( t_start + CHAOS_SECS )) t_hard=$(( t_start + 4 * CHAOS_SECS ))
rounds=0 kills=0
while [ "$(date +%s)" -lt "$t_end" ] ||
      { [ "$(acked_now)" -lt "$MIN_ACKED" ] && [ "$(date +%s)" -lt "$t_hard" ]; }; do
    rounds=$((rounds + 1))
    victims=()
    for v in $(seq 1 $((RANDOM % 3 + 1))); do
        x=$((RANDOM % N + 1))
        case " ${victims[*]} " in *" $x "*) continue ;; esac
        victims+=("$x")
    done
    for x in "${victims[@]}"; do
        kill -KILL "${PIDS[$x]}" 2>/dev/null
        wait "${PIDS[$x]}" 2>/dev/null
        unset "PIDS[$x]"
        kills=$((kills + 1))
    done
    sleep "0.$((RANDOM % 10 + 2))"
    for x in "${victims[@]}"; do start_node "$x"; done
    sleep "1.$((RANDOM % 10))"
done
touch "$T/stop"
for p in "${wpids[@]}"; do wait "$p"; done
log "$rounds chaos rounds, $kills kill -9s in $(( $(date +%s) - t_start )) s"

total_acked=0
for w in "${writers[@]}"; do
    a=$(wc -l <"$T/acked$w")
    f=$(wc -l <"$T/failed$w")
    total_acked=$((total_acked + a))
    log "node$w: $a acknowledged writes, $f refused"
    if [ "$f" -gt 0 ]; then
        head -n 5 "$T/failed$w"
        tail -n 5 "$T/err$w"
    fi
done
[ "$total_acked" -ge "$MIN_ACKED" ] || fail "only $total_acked writes were acknowledged in $(( $(date +%s) - t_start )) s: the writers did not run"

# ---- everything down hard once more, then everything up
for i in $(seq 1 "$N"); do
    kill -KILL "${PIDS[$i]}" 2>/dev/null
    wait "${PIDS[$i]}" 2>/dev/null
    unset "PIDS[$i]"
done
for i in $(seq 1 "$N"); do start_node "$i"; done
log "all daemons restarted; waiting for convergence"

heads() { fm "$1" status --json | python3 -c '
import json, sys
for h in json.load(sys.stdin)["heads"]:
    print(h["author"], h["seq"], h["head"])'; }
vectors_equal() {
    local first i
    first=$(heads 1) || return 1
    for i in $(seq 2 "$N"); do [ "$(heads "$i")" = "$first" ] || return 1; done
}
converged() { digests_equal $(seq 1 "$N") && vectors_equal; }
t0=$(date +%s)
wait_for "${FM_CHAOS_CONVERGE_SECS:-150}" "convergence of all $N nodes" converged
log "converged $(( $(date +%s) - t0 )) s after the restart: digest $(digest 1)"

# ---- every acknowledged op everywhere
heads 1 >"$T/heads"
want_seq() { # node I: certificate + acknowledged writes (+ setup at node1)
    local i=$1 n
    n=$(wc -l <"$T/acked$i")
    [ "$i" -eq 1 ] && n=$((n + SETUP1))
    echo $((n + 1))
}
for w in "${writers[@]}" 1; do
    key=$(node_key "$w")
    got=$(awk -v k="$key" '$1 == k { print $2 }' "$T/heads")
    want=$(want_seq "$w")
    [ "$got" = "$want" ] || fail "node$w's log is $got ops long everywhere, want $want (acknowledged)"
done
consumed=0
for w in "${writers[@]}"; do
    c=$(grep -c '^consume$' "$T/acked$w")
    consumed=$((consumed + c))
done
want_qty=$((STOCK0 - consumed))
grep '^report ' "$T"/acked* | awk '{ print $2 }' | sort >"$T/ids"
nids=$(wc -l <"$T/ids")
for i in $(seq 1 "$N"); do
    fm "$i" incident list --json | python3 -c '
import json, sys
ids = {x["id"] for x in json.load(sys.stdin)}
want = [l.strip() for l in open(sys.argv[1]) if l.strip()]
missing = [w for w in want if w not in ids]
if missing:
    print("missing incidents:", " ".join(missing[:10]))
    sys.exit(1)' "$T/ids" || fail "node$i lacks acknowledged incidents"
    fm "$i" resource list --json | tr -d ' \n' | grep -q "\"quantity\":$want_qty" ||
        fail "node$i stock is not $want_qty: $(fm "$i" resource list --json | tr -d '\n')"
done
# a sample of the acknowledged incidents in detail, on a random node
for id in $(shuf -n 5 --random-source=<(yes "$SEED") "$T/ids"); do
    x=$((RANDOM % N + 1))
    fm "$x" incident show "$id" --json | grep -q "\"id\": *\"$id\"" || fail "incident show $id at node$x"
done
log "$total_acked acknowledged writes ($nids reports, $consumed consumed) on all $N nodes"

for i in $(seq 1 "$N"); do stop_node "$i"; done
# under -DFM_SANITIZE=ON a report in any daemon log (or CLI stderr) fails the test
if grep -l -E "Sanitizer|runtime error:" "$T"/daemon*.log "$T"/err* 2>/dev/null; then
    fail "sanitizer report in the logs above"
fi
FAILED=0
echo "PASS: test_gossip_chaos (seed $SEED)"
