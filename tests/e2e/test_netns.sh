#!/usr/bin/env bash
# test_netns.sh — three nodes on real, separate network addresses: network
# namespaces A, B and C of this test's own, joined by two veth pairs into a
# line A - B - C (no bridge, no IP forwarding: B relays at the application
# layer). Each fieldmeshd runs inside its namespace on an address of its
# own (`fieldmesh testbed --addresses`). An incident reported at C reaches
# A through B; then the B - C link is cut with `ip link set ... down`, both
# sides write (and must not see each other's writes), the link is brought
# back up, and all three nodes must end with equal digests and the same ops.
# Last, C changes its address under a running daemon and must keep syncing
# from the new one.
#
# Needs root and a working `ip netns`; otherwise it reports skipped (77).
# The addresses (10.201.x.y) exist only inside the namespaces made here;
# the B - C link is a /29 so that C has somewhere to move to.
# A trap deletes the namespaces (and with them the veths) even on failure.
. "$(dirname "$0")/lib_gossip.sh"

if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null 2>&1; then
    echo "SKIP: test_netns needs root and iproute2 (ip netns)"
    exit 77
fi

NS_A="fmA$$" NS_B="fmB$$" NS_C="fmC$$"
V_AB_A="fab${$}a" V_AB_B="fab${$}b" V_BC_B="fbc${$}b" V_BC_C="fbc${$}c"
NSES=()
ns_cleanup() {
    local ns
    for ns in "${NSES[@]}"; do ip netns del "$ns" 2>/dev/null; done
}
trap 'cleanup; ns_cleanup' EXIT

if ! ip netns add "$NS_A" 2>"$T/netns.err"; then
    echo "SKIP: ip netns does not work here: $(head -c 200 "$T/netns.err")"
    exit 77
fi
NSES+=("$NS_A")
ip netns add "$NS_B" && NSES+=("$NS_B") || fail "ip netns add $NS_B"
ip netns add "$NS_C" && NSES+=("$NS_C") || fail "ip netns add $NS_C"

A_IP=10.201.1.1 B_IP=10.201.1.2 B_IP2=10.201.2.1 C_IP=10.201.2.2
set -e
ip link add "$V_AB_A" netns "$NS_A" type veth peer name "$V_AB_B" netns "$NS_B"
ip link add "$V_BC_B" netns "$NS_B" type veth peer name "$V_BC_C" netns "$NS_C"
ip -n "$NS_A" addr add "$A_IP/30" dev "$V_AB_A"
ip -n "$NS_B" addr add "$B_IP/30" dev "$V_AB_B"
ip -n "$NS_B" addr add "$B_IP2/29" dev "$V_BC_B"
ip -n "$NS_C" addr add "$C_IP/29" dev "$V_BC_C"
for ns in "$NS_A" "$NS_B" "$NS_C"; do ip -n "$ns" link set lo up; done
ip -n "$NS_A" link set "$V_AB_A" up
ip -n "$NS_B" link set "$V_AB_B" up
ip -n "$NS_B" link set "$V_BC_B" up
ip -n "$NS_C" link set "$V_BC_C" up
# B listens on its A-side address; C reaches it over the B - C link (B
# accepts packets for any of its own addresses: no forwarding involved)
ip -n "$NS_C" route add 10.201.1.0/30 via "$B_IP2"
set +e
log "namespaces $NS_A $NS_B $NS_C: A=$A_IP B=$B_IP/$B_IP2 C=$C_IP"

# every node listens on its own address; line topology: A - B - C
BASE=${FM_PORT_BASE:-$(( $$ % 20000 + 20000 ))}
"$FIELDMESH" testbed "$T/tb" --nodes 3 --topology line --base-port "$BASE" \
    --addresses "$A_IP,$B_IP,$C_IP" >"$T/testbed.out" 2>"$T/testbed.err" || fail "testbed failed"
grep -q "tcp://$C_IP:$((BASE + 2))" "$T/tb/node3/node.yaml" || fail "node3 does not listen on $C_IP"

NS=("" "$NS_A" "$NS_B" "$NS_C")
start_ns_node() {
    local i=$1
    ip netns exec "${NS[$i]}" "$FIELDMESHD" -c "$(conf "$i")" --log-level "${FM_DAEMON_LOG:-info}" \
        2>>"$T/daemon$i.log" &
    PIDS[$i]=$!
}
for i in 1 2 3; do start_ns_node "$i"; done

# the daemons cannot reach each other over loopback: no node is on it
at_node() { fm "$1" incident list --json | grep -q "\"id\": *\"$2\""; }
up_on() { grep -q "peer $2 is up" "$T/daemon$1.log"; }
wait_for 30 "A to hear B" up_on 1 node2
wait_for 30 "C to hear B" up_on 3 node2

id=$(fm 3 incident report --category fire --lat 52.3 --lon 4.9 --desc "reported in namespace C") ||
    fail "report at C failed"
wait_for 30 "C's incident at A (via B)" at_node 1 "$id"
log "incident $id went C -> B -> A over veth"

# cut B - C
ip -n "$NS_B" link set "$V_BC_B" down || fail "cannot cut the B - C link"
log "B - C link down"
ida=$(fm 1 incident report --category medical --lat 52.1 --lon 4.8 --desc "A side, cut off") ||
    fail "report at A failed"
idc=$(fm 3 incident report --category rescue --lat 52.4 --lon 5.0 --desc "C side, cut off") ||
    fail "report at C failed"
for k in 1 2 3 4 5; do
    fm 1 incident note "$id" "centre note $k" >/dev/null || fail "note at A"
    fm 3 incident note "$id" "field note $k" >/dev/null || fail "note at C"
done
fm 3 incident status "$id" dispatched >/dev/null || fail "status at C"
wait_for 30 "A's report at B" at_node 2 "$ida"
sleep 3 # three anti-entropy periods: nothing may cross the cut link
at_node 1 "$idc" && fail "C's write reached A while the link was down"
at_node 3 "$ida" && fail "A's write reached C while the link was down"
digests_equal 1 3 && fail "A and C are equal across a cut link"
log "both sides wrote while cut; neither sees the other"

# restore
ip -n "$NS_B" link set "$V_BC_B" up || fail "cannot restore the B - C link"
ip -n "$NS_C" route replace 10.201.1.0/30 via "$B_IP2" || fail "cannot restore C's route"
log "B - C link up"
wait_for 60 "equal digests after the link returned" digests_equal 1 2 3
at_node 1 "$idc" || fail "C's report is not at A"
at_node 3 "$ida" || fail "A's report is not at C"
[ "$(op_ids 1)" = "$(op_ids 3)" ] || fail "A and C hold different ops"
[ "$(op_ids 1)" = "$(op_ids 2)" ] || fail "A and B hold different ops"
fm 1 incident show "$id" --json | grep -q '"status": *"dispatched"' || fail "C's status move not at A"
log "digest $(digest 1) on A, B and C"

# C changes address while its daemon runs (a vehicle moving to another
# network): its old address disappears under the live connection, ZMTP
# heartbeats notice, and C dials B again from the new address. B's own
# dial to C's old address can no longer succeed, so everything below
# crosses C's new connection into B's ROUTER.
C_IP_NEW=10.201.2.3
ip -n "$NS_C" addr del "$C_IP/29" dev "$V_BC_C" || fail "cannot remove C's address"
ip -n "$NS_C" addr add "$C_IP_NEW/29" dev "$V_BC_C" || fail "cannot give C its new address"
ip -n "$NS_C" route replace 10.201.1.0/30 via "$B_IP2" || fail "cannot restore C's route"
log "C moved from $C_IP to $C_IP_NEW"
idm=$(fm 3 incident report --category traffic_accident --lat 52.5 --lon 5.1 \
    --desc "reported after C moved") || fail "report at C after the move failed"
ida2=$(fm 1 incident report --category medical --lat 52.2 --lon 4.7 --desc "A, after C moved") ||
    fail "report at A after the move failed"
wait_for 60 "C's report after its move at A" at_node 1 "$idm"
wait_for 60 "A's report at C after its move" at_node 3 "$ida2"
wait_for 60 "equal digests after C moved" digests_equal 1 2 3
ip netns exec "$NS_B" ss -tn 2>/dev/null | grep -q "$C_IP_NEW" ||
    fail "B has no connection from C's new address"
log "C's new address $C_IP_NEW carries the sync; digest $(digest 1)"

for i in 1 2 3; do stop_node "$i"; done
# under -DFM_SANITIZE=ON a report in any daemon log (or CLI stderr) fails the test
if grep -l -E "Sanitizer|runtime error:" "$T"/daemon*.log "$T"/err* 2>/dev/null; then
    fail "sanitizer report in the logs above"
fi
FAILED=0
echo "PASS: test_netns"
