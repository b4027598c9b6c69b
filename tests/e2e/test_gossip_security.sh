#!/usr/bin/env bash
# test_gossip_security.sh — a node whose key the organisation never
# enrolled (it made its own organisation and certificate) dials a real node
# and keeps trying. The real node's ZAP handler must refuse it at the
# CurveZMQ handshake (and log that), none of its ops may ever appear on the
# real nodes, and the real nodes keep syncing with each other meanwhile.
. "$(dirname "$0")/lib_gossip.sh"

# node3 is never started: the rogue listens on its port instead, so node2's
# dials to "node3" reach the rogue, whose server key is not node3's (the
# CurveZMQ client side refuses that handshake: nothing flows that way either)
testbed 3 line
# the rogue: its own org, its own key and certificate, node1 as its peer
"$FIELDMESH" testbed "$T/rogue" --nodes 1 --base-port $((BASE + 2)) >/dev/null 2>&1 ||
    fail "rogue testbed failed"
rogue_conf="$T/rogue/node1/node.yaml"
grep -q '^  peers: \[\]' "$rogue_conf" || fail "unexpected testbed config layout"
awk -v ep="tcp://127.0.0.1:$BASE" -v key="$(node_key 1)" '
    /^  peers: \[\]/ { print "  peers:"; print "    - endpoint: \"" ep "\""; print "      key: " key;
                       print "      name: \"victim\""; next }
    { print }' "$rogue_conf" >"$rogue_conf.new" && mv "$rogue_conf.new" "$rogue_conf"
rogue_key=$(tr -d '[:space:]' <"$T/rogue/node1/data/node.key.pub")
rogue() { "$FIELDMESH" -c "$rogue_conf" "$@"; }

start_node 1
start_node 2
"$FIELDMESHD" -c "$rogue_conf" --log-level info 2>>"$T/daemon-rogue.log" &
PIDS[rogue]=$!

for k in 1 2 3 4 5; do
    rogue incident report --category fake --lat 1 --lon 1 --desc "forged alarm $k" >/dev/null ||
        fail "rogue could not write locally"
done

refused() { grep -q "zap: refused a connection" "$T/daemon1.log"; }
wait_for 30 "node1 to log a refused handshake" refused
log "node1 refused the rogue: $(grep -m1 'zap: refused' "$T/daemon1.log" | cut -c1-160)"
# a stranger is named by its whole Curve key, in Z85 and labelled as such
grep -Eq 'zap: refused a connection from .*: curve key []0-9A-Za-z.:+=^!/*?&<>()[{}@%$#-]{40} \(Z85\) is not an enrolled node' \
    "$T/daemon1.log" || fail "the refusal does not show the stranger's Curve key in Z85"

# the real mesh keeps working while the rogue keeps knocking
id=$(fm 2 incident report --category fire --lat 52.1 --lon 5.1 --desc "real") || fail "report failed"
at_node1() { fm 1 incident list --json | grep -q "\"id\": *\"$id\""; }
wait_for 30 "node2's incident at node1" at_node1

# give the rogue several anti-entropy rounds (2 s each) to get anything in
sleep 6
for i in 1 2; do
    op_ids "$i" | grep -q "^$rogue_key " && fail "a rogue op reached node$i"
    fm "$i" incident list --json | grep -q "forged alarm" && fail "a rogue incident is listed on node$i"
done
grep -q "peer victim is up" "$T/daemon-rogue.log" && fail "the rogue heard back from node1"
log "no rogue op on node1 or node2"

stop_node 1
stop_node 2
FAILED=0
echo "PASS: test_gossip_security"
