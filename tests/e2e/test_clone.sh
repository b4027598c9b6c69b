#!/usr/bin/env bash
# test_clone.sh — a cloned node key is seen (issue 9, item 6). node1 and
# node2 run normally: no warning. Then a second fieldmeshd starts with a
# copy of node2's key and configuration, listening on another port, and
# dials node1 like node2 does: node1 now hears node2's key on two live
# connections at once, and says so — `status` prints a `warning:` line,
# `status --json` lists the key under cloned_keys (two_connections) and
# counts the alert, the daemon logs a WARN line. (The clone hears nothing
# back — node1 answers node2's key on its own link to node2 — so it
# re-dials every few seconds: node1 remembers the original's silent
# connection and finds it still open.) Both copies of the key
# signed their own certificate op at seq 1, so node1 also finds two
# diverging writers for the key (a fork at its root): cloned_keys lists it
# again as diverging_writers.
. "$(dirname "$0")/lib_gossip.sh"

jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }

testbed 3 line   # node3 is never started: its port is the clone's
# the clone: node2's key, certificate and config, its own store and port
mkdir -p "$T/tb/clone/data"
# (a copied laptop disk: the sealed keys, and the passphrase that opens them)
cp "$T/tb/node2/data/node.key" "$T/tb/node2/data/node.key.pub" "$T/tb/node2/data/node.cert" \
    "$T/tb/node2/data/data.key" "$T/tb/clone/data/" || fail "copy node2's keys"
cp "$T/tb/node2/passphrase" "$T/tb/clone/" || fail "copy node2's passphrase"
chmod 600 "$T/tb/clone/data/node.key" "$T/tb/clone/data/data.key" "$T/tb/clone/passphrase"
sed "s#tcp://127.0.0.1:$(( BASE + 1 ))\"#tcp://127.0.0.1:$(( BASE + 2 ))\"#" "$T/tb/node2/node.yaml" \
    > "$T/tb/clone/node.yaml"
grep -q "listen: \"tcp://127.0.0.1:$(( BASE + 2 ))\"" "$T/tb/clone/node.yaml" || fail "clone config"

start_node 1
start_node 2
key2=$(node_key 2)
id=$(fm 2 incident report --category fire --lat 30.1 --lon 120.1) || fail "report at node2"
wait_for 30 "node2's report at node1" fm 1 incident show "$id"
wait_for 30 "equal digests" digests_equal 1 2
sj=$(fm 1 status --json) || fail "status --json"
[ "$(echo "$sj" | jget 'd["cloned_keys"]')" = "[]" ] || fail "a warning without a clone: $sj"
[ "$(echo "$sj" | jget 'd["clone_alerts"]')" = 0 ] || fail "clone_alerts without a clone: $sj"
fm 1 status | grep -q "cloned key" && fail "status warns without a clone"

"$FIELDMESHD" -c "$T/tb/clone/node.yaml" --log-level info 2>>"$T/daemon_clone.log" &
PIDS[9]=$!
log "clone of node2 started"

has_evidence() {
    fm 1 status --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(0 if any(c["author"] == sys.argv[1] and c["evidence"] == sys.argv[2]
                  for c in d["cloned_keys"]) else 1)' "$key2" "$1"
}
wait_for 60 "node1 sees node2's key on two connections" has_evidence two_connections
sj=$(fm 1 status --json) || fail "status --json"
[ "$(echo "$sj" | jget 'd["clone_alerts"] >= 1')" = True ] || fail "alert not counted: $sj"
fm 1 status | grep -q "^warning:   cloned key? node2 (${key2:0:16}) is connected to this node twice" ||
    fail "no warning line: $(fm 1 status)"
grep -q "node2 ($key2) is connected to us twice at once" "$T/daemon1.log" ||
    fail "no WARN line in node1's log"
[ "$(grep -c "connected to us twice at once" "$T/daemon1.log")" -le 5 ] || fail "WARN line not rate-limited"
wait_for 60 "node1 sees two diverging writers for node2's key" has_evidence diverging_writers
fm 1 status | grep -q "^warning:   cloned key? node2 (${key2:0:16}) signed two diverging histories" ||
    fail "no diverging-writers warning: $(fm 1 status)"
wait_for 30 "a WARN line for the diverging writers" grep -q "signed two diverging histories" \
    "$T/daemon1.log"
log "cloned key seen: two live connections and two diverging writers"

kill -TERM "${PIDS[9]}"
wait "${PIDS[9]}" 2>/dev/null
unset "PIDS[9]"
stop_node 2
stop_node 1
FAILED=0
echo "PASS: test_clone"
