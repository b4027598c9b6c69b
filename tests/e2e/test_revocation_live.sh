#!/usr/bin/env bash
# test_revocation_live.sh — ZAP admits a key only at the handshake, so a
# node revoked while connected must be cut off by the daemons themselves.
# Three daemons in a full mesh; node3 is connected to both others. An admin
# revokes node3 and `trust publish`es it at node1. Every node that learns
# of the revocation must drop its connections with node3 within one
# heartbeat (1 s here; the test allows 5 s from the publish, gossip hop
# included, as the daemons' own logs time it), refuse it at every later
# handshake, and none of node3's later ops may appear anywhere. node1 and
# node2 keep syncing with each other throughout. If node3 hears of its own
# revocation before it is cut off, it destroys its data key and stops
# (issue 9 item 9, docs/security.md): then its store must not open;
# otherwise it must see that its peers refuse it.
. "$(dirname "$0")/lib_gossip.sh"

testbed 3 mesh
for i in 1 2 3; do start_node "$i"; done
k3=$(node_key 3)

id=$(fm 3 incident report --category fire --lat 50.1 --lon 4.1 --desc "before revocation") ||
    fail "report at node3"
has_id() { fm "$1" incident list --json | grep -q "\"id\": *\"$id\""; }
wait_for 30 "node3's incident at node1" has_id 1
wait_for 30 "node3's incident at node2" has_id 2
connected() { fm "$1" peers --json | python3 -c '
import json, sys
d = [p for p in json.load(sys.stdin) if p["name"] == "node3"]
sys.exit(0 if d and d[0]["connected"] and not d[0]["revoked"] else 1)'; }
wait_for 30 "node1 connected to node3" connected 1
wait_for 30 "node2 connected to node3" connected 2
last=$(op_ids 1 | awk -v k="$k3" '$1 == k' | wc -l)
[ "$last" -ge 2 ] || fail "node1 holds $last ops of node3"

fm 1 org revoke --org "$T/tb/org" --key "$k3" --last-seq "$last" --out "$T/rev" \
    >/dev/null 2>&1 || fail "org revoke"
fm 1 trust publish "$T/rev" >/dev/null || fail "trust publish"
t0=$(now_ms) # node1's store holds the revocation from here on
revoked() { fm "$1" peers --json | python3 -c '
import json, sys
d = [p for p in json.load(sys.stdin) if p["name"] == "node3"]
sys.exit(0 if d and d[0]["revoked"] and not d[0]["connected"] else 1)'; }
# How fast the daemons drop node3 is timed from their own log lines, not
# by polling `peers`: on a loaded 2-core machine one CLI + python3 poll
# can take a second, and the CLI publish itself two (a 3 s bound on the
# polling failed so, issue 15). The drop is due within one heartbeat (1 s)
# plus the gossip hop; 5 s holds under load and still fails a daemon that
# only notices at its next reconnection or session timeout.
for i in 1 2; do
    wait_for 30 "node$i to show node3 revoked and disconnected" revoked "$i"
    t=$(log_ms "$T/daemon$i.log" "dropping every connection of node3") ||
        fail "node$i did not log the drop"
    log "node$i dropped node3 $((t - t0)) ms after the publish returned"
    [ $((t - t0)) -le 5000 ] || fail "node$i dropped node3 only $((t - t0)) ms after the publish"
done

# node3 keeps writing; nothing of it may arrive (its own node may refuse to
# sign once it learned of the revocation: either way nothing new spreads)
for k in 1 2 3; do
    fm 3 incident report --category fake --lat 1 --lon 1 --desc "after revocation $k" \
        >/dev/null 2>&1 || true
done
# node1 and node2 still sync with each other (node1's listener was re-bound)
id2=$(fm 1 incident report --category flood --lat 51 --lon 4 --desc "after") || fail "report at node1"
has_id2() { fm 2 incident list --json | grep -q "\"id\": *\"$id2\""; }
wait_for 30 "node1's new incident at node2" has_id2
sleep 3 # several anti-entropy rounds for anything of node3 to leak
for i in 1 2; do
    n=$(op_ids "$i" | awk -v k="$k3" '$1 == k' | wc -l)
    [ "$n" -le "$last" ] || fail "node$i holds $n ops of node3, more than the $last allowed"
    fm "$i" incident list --json | grep -q "after revocation" && fail "a revoked op is listed on node$i"
    revoked "$i" || fail "node$i talks to node3 again"
done
if grep -q "revoked: data key destroyed" "$T/daemon3.log"; then
    # node3 heard of its own revocation before it was cut off: it destroyed
    # its data key and stopped (docs/security.md), so it knocks no more
    gone3() { ! kill -0 "${PIDS[3]}" 2>/dev/null; }
    wait_for 30 "node3's daemon to stop after shredding" gone3
    wait "${PIDS[3]}" 2>/dev/null
    unset "PIDS[3]"
    fm 3 incident list >/dev/null 2>&1 && fail "node3's store still opens after its revocation"
    for i in 1 2; do stop_node "$i"; done
    log "node3 heard of its revocation, destroyed its data key and stopped"
    FAILED=0
    echo "PASS: test_revocation_live"
    exit 0
fi
refused() { grep -q "zap: refused a connection" "$T/daemon1.log" "$T/daemon2.log"; }
wait_for 30 "node3's reconnection attempts refused at the handshake" refused
# a known node is named by its key text, as operators know it
grep -q "zap: refused a connection from .*: node $k3 (node3) is not admitted: its key was revoked" \
    "$T/daemon1.log" "$T/daemon2.log" || fail "the refusal does not name node3 by its key"
log "node3 cut off everywhere; its later ops appear nowhere"

# the refused side learns it: its DEALERs' handshakes fail authentication
# (a node offline when the revocation was published would otherwise never
# know): peers marks them, status warns, the daemon logs it
refused_us() { fm 3 peers --json | python3 -c '
import json, sys
d = {p["name"]: p for p in json.load(sys.stdin)}
sys.exit(0 if all(d.get(n, {}).get("refused_us") for n in ("node1", "node2")) else 1)'; }
wait_for 30 "node3 sees that node1 and node2 refuse it" refused_us
fm 3 peers | grep -q "refused us" || fail "peers does not show the refusal"
fm 3 status | grep -q "^warning: .*refuse this node's handshake" || fail "status does not warn"
grep -q "refused by peer node1 .*not admitted" "$T/daemon3.log" || fail "node3 did not log the refusal"
fm 1 peers --json | python3 -c '
import json, sys
sys.exit(1 if any(p["refused_us"] for p in json.load(sys.stdin)) else 0)' ||
    fail "node1 believes it is refused"
log "node3 knows it is refused by its peers"

for i in 1 2 3; do stop_node "$i"; done
FAILED=0
echo "PASS: test_revocation_live"
