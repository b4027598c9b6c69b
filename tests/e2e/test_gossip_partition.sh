#!/usr/bin/env bash
# test_gossip_partition.sh — partition and heal on a 3-node line A - B - C.
# B is stopped, which cuts A off from C. Each side then makes >= 1,000 ops
# (300 under AddressSanitizer),
# including concurrent edits of the same incidents (notes, status moves),
# the same unit (status, position: last-writer-wins) and the same stock
# (consume/restock: a PN-counter). B is restarted; all three digests must
# become equal, every op either side made must be on every node, and the
# stock must add up to exactly what both sides did to it. B is also killed
# with SIGKILL while catching up and restarted once more.
. "$(dirname "$0")/lib_gossip.sh"

# Under AddressSanitizer every CLI write costs seconds on a loaded machine
# (one ASan run under load passed 1,800 s before the 2,000 writes were
# done, issue 15): there each side makes 300 ops, enough for every kind of
# concurrent edit below to happen many times over.
OPS_DEFAULT=1000
ldd "$FIELDMESH" 2>/dev/null | grep -q libasan && OPS_DEFAULT=300
OPS_PER_SIDE=${FM_PARTITION_OPS:-$OPS_DEFAULT}

testbed 3 line
for i in 1 2 3; do start_node "$i"; done

# shared entities, created at A before the partition
incs=()
for k in 1 2 3 4 5; do
    incs+=("$(fm 1 incident report --category flood --lat 51.9 --lon 4.4$k --desc "dike breach $k")") ||
        fail "report failed"
done
unit=$(fm 1 unit register --name "Pump 3" --department fire --tier 2 --kind fire) || fail "unit failed"
stock=$(fm 1 resource add sandbag --depot north --qty 100000) || fail "resource failed"
wait_for 30 "shared entities on A, B, C" digests_equal 1 2 3
log "shared entities everywhere; stopping B"
stop_node 2

# side I makes OPS_PER_SIDE successful ops; prints the net stock change
work() {
    local i=$1 n=0 k=0 net=0 inc st
    local stages=(dispatched enroute onscene resolved)
    while [ "$n" -lt "$OPS_PER_SIDE" ]; do
        k=$((k + 1))
        inc=${incs[$((k % 5))]}
        case $((k % 10)) in
            0) fm "$i" resource consume "$stock" 3 >/dev/null && { net=$((net - 3)); n=$((n + 1)); } ;;
            1) fm "$i" resource restock "$stock" 2 >/dev/null && { net=$((net + 2)); n=$((n + 1)); } ;;
            2) fm "$i" unit status "$unit" "$( [ $((k % 4)) -lt 2 ] && echo assigned || echo onscene)" >/dev/null &&
                n=$((n + 1)) ;;
            # positions are soft state (not logged ops), so they do not count
            3) fm "$i" unit position "$unit" "51.$i$k" "4.$k" >/dev/null ;;
            4) st=${stages[$(((k / 10) % 4))]}
               fm "$i" incident status "$inc" "$st" >/dev/null 2>&1 && n=$((n + 1)) ;;
            5) fm "$i" incident report --category rescue --lat 52.0 --lon 4.$k >/dev/null && n=$((n + 1)) ;;
            *) fm "$i" incident note "$inc" "side $i note $k" >/dev/null && n=$((n + 1)) ;;
        esac
        [ "$k" -gt $((OPS_PER_SIDE * 3)) ] && { echo "too many failures on side $i" >&2; return 1; }
    done
    echo "$net"
}

work 1 >"$T/net1" &
w1=$!
work 3 >"$T/net3" &
w3=$!
wait "$w1" || fail "writes at A failed"
wait "$w3" || fail "writes at C failed"
log "A and C each made $OPS_PER_SIDE ops while partitioned"

digests_equal 1 3 && fail "A and C converged without B: the partition did not hold"
op_ids 1 >"$T/ops_a"
op_ids 3 >"$T/ops_c"
[ "$(wc -l <"$T/ops_a")" -ge "$OPS_PER_SIDE" ] || fail "A holds too few ops"

start_node 2
log "B restarted"
# crash B in the middle of catching up, then start it again: ops it had
# committed stay, the rest comes again
sleep 0.1
kill -KILL "${PIDS[2]}"
wait "${PIDS[2]}" 2>/dev/null
unset "PIDS[2]"
log "B killed -9 after $(op_ids 2 | wc -l) ops; starting it again"
start_node 2
wait_for 300 "equal digests after the heal" digests_equal 1 2 3
log "digests equal: $(digest 1)"

for i in 1 2 3; do op_ids "$i" >"$T/final$i"; done
cmp -s "$T/final1" "$T/final2" || fail "A and B hold different ops"
cmp -s "$T/final1" "$T/final3" || fail "A and C hold different ops"
[ -z "$(comm -23 "$T/ops_a" "$T/final1")" ] || fail "an op made at A is missing"
[ -z "$(comm -23 "$T/ops_c" "$T/final1")" ] || fail "an op made at C is missing"
total=$(wc -l <"$T/final1")
[ "$total" -ge $((2 * OPS_PER_SIDE)) ] || fail "only $total ops after the heal"

want=$((100000 + $(cat "$T/net1") + $(cat "$T/net3")))
for i in 1 2 3; do
    fm "$i" resource list --json | tr -d ' \n' | grep -q "\"quantity\":$want" ||
        fail "node$i stock is not $want: $(fm "$i" resource list --json | tr -d '\n')"
done
log "$total ops on every node, stock $want everywhere"

for i in 1 2 3; do stop_node "$i"; done
FAILED=0
echo "PASS: test_gossip_partition"
