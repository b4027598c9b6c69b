#!/usr/bin/env bash
# `fieldmesh status` and `fieldmesh peers` as an operator reads them: with
# the daemon down (local store only, peers listed as not connected), with
# two daemons up (connected, nothing lacking, skew near zero, one the
# spanning tree's root and the other its child), after one peer stops
# (shown down, last heard in the past), and their --json fields.
source "$(dirname "$0")/lib_gossip.sh"

jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }

testbed 2 line

# Daemon down: status reads the store, peers lists the configured peer.
out=$(fm 1 status) || fail "status without daemon failed"
echo "$out" | grep -q "daemon:    not running" || fail "status should say the daemon is not running: $out"
[ "$(fm 1 status --json | jget 'd["daemon_running"]')" = False ] || fail "daemon_running should be false"
[ "$(fm 1 peers --json 2>/dev/null | jget 'd[0]["connected"]')" = False ] || fail "peer connected without daemon"
fm 1 peers 2>/dev/null | grep -q "unknown" || fail "peers table should say the state is unknown"
[ "$(fm 1 peers --json 2>/dev/null | jget 'd[0]["push"]')" = None ] || fail "push without daemon"
[ "$(fm 1 status --json | jget 'd["tree"]')" = None ] || fail "a tree without daemon"
fm 1 peers 2>&1 >/dev/null | grep -q "not running" || fail "peers should say on stderr that the daemon is not running"

id=$(fm 1 incident report --category fire --lat 30.1 --lon 120.1) || fail "report failed"
start_node 1
start_node 2
wait_for 30 "node2 has $id" fm 2 incident show "$id"
id2=$(fm 2 incident report --category traffic --lat 30.2 --lon 120.2) || fail "report at node2 failed"
wait_for 30 "node1 has $id2" fm 1 incident show "$id2"

# Both up: connected, nothing lacking either way, small skew.
wait_for 30 "node1 sees node2 connected" sh -c "\"$FIELDMESH\" -c \"$(conf 1)\" peers --json | grep -q '\"connected\": true'"
# its clock is measured from its first summary (null until then)
wait_for 30 "node1 measures node2's clock" sh -c "\"$FIELDMESH\" -c \"$(conf 1)\" peers --json | grep -q '\"skew_ms\": -\?[0-9]'"
pj=$(fm 1 peers --json) || fail "peers --json failed"
[ "$(echo "$pj" | jget 'len(d)')" = 1 ] || fail "expected one peer: $pj"
[ "$(echo "$pj" | jget 'd[0]["name"]')" = node2 ] || fail "peer name: $pj"
[ "$(echo "$pj" | jget 'd[0]["we_lack"]')" = 0 ] || fail "we_lack should be 0: $pj"
[ "$(echo "$pj" | jget 'abs(d[0]["skew_ms"]) < 5000')" = True ] || fail "skew should be small: $pj"
sj=$(fm 1 status --json) || fail "status --json failed"
[ "$(echo "$sj" | jget 'd["daemon_running"]')" = True ] || fail "daemon_running should be true: $sj"
[ "$(echo "$sj" | jget 'd["peers_connected"]')" = 1 ] || fail "peers_connected: $sj"
[ "$(echo "$sj" | jget 'd["ops"]')" = 4 ] || fail "ops count: $sj"
[ "$(echo "$sj" | jget 'len(d["heads"])')" = 2 ] || fail "two authors expected: $sj"
[ "$(echo "$sj" | jget 'd["digest"]')" = "$(fm 2 digest)" ] || fail "status digest differs from node2's digest"
fm 1 status | grep -q "1 of 1 peer(s) connected" || fail "status table: $(fm 1 status)"

# The spanning tree of two: node1, the centre, is the root whatever the
# keys (a county ranks after it), node2 its child; status says where each
# stands, peers how ops go (PUSH).
root=1; child=2
wait_for 30 "a tree of two rooted at the centre" sh -c "\"$FIELDMESH\" -c \"$(conf 1)\" status --json | grep -q '\"children\": 1'"
rj=$(fm $root status --json); cj=$(fm $child status --json)
[ "$(echo "$rj" | jget 'd["tree"]["hops"]')" = 0 ] || fail "root's hops: $rj"
[ "$(echo "$rj" | jget 'd["tree"]["parent"]')" = None ] || fail "root has a parent: $rj"
[ "$(echo "$rj" | jget 'd["tree"]["root_name"]')" = "node$root" ] || fail "root's name: $rj"
[ "$(echo "$cj" | jget 'd["tree"]["root_role"]')" = centre ] || fail "the root's role: $cj"
[ "$(echo "$cj" | jget 'd["tree"]["root_is_us"]')" = False ] || fail "two roots: $cj"
[ "$(echo "$cj" | jget 'd["tree"]["hops"]')" = 1 ] || fail "child's hops: $cj"
[ "$(echo "$cj" | jget 'd["tree"]["root"]')" = "$(echo "$rj" | jget 'd["tree"]["root"]')" ] ||
    fail "the child names another root: $cj"
[ "$(echo "$cj" | jget 'd["tree"]["parent"]')" = "$(echo "$rj" | jget 'd["key"]')" ] ||
    fail "the child's parent is not the root: $cj"
[ "$(echo "$cj" | jget 'd["tree"]["parent_name"]')" = "node$root" ] || fail "parent name: $cj"
[ "$(fm $root peers --json | jget 'd[0]["push"]')" = child ] || fail "root pushes to: $(fm $root peers --json)"
[ "$(fm $child peers --json | jget 'd[0]["push"]')" = parent ] || fail "child pushes to: $(fm $child peers --json)"
fm $child status | grep -q "^tree:      root node$root (centre, [0-9a-f]*), 1 hop(s) away through node$root; 0 child(ren)" ||
    fail "child's tree line: $(fm $child status)"
fm $root status | grep -q "^tree:      this node is the root; 1 neighbour(s)" || fail "root's tree line: $(fm $root status)"
fm $child peers | grep -q "PUSH" || fail "peers table has no PUSH column"

# node2 stops: node1 shows it down, last heard in the past.
stop_node 2
wait_for 30 "node1 sees node2 down" sh -c "\"$FIELDMESH\" -c \"$(conf 1)\" peers --json | grep -q '\"connected\": false'"
pj=$(fm 1 peers --json)
[ "$(echo "$pj" | jget 'd[0]["last_heard_ms"] is not None')" = True ] || fail "last heard lost: $pj"
fm 1 peers | grep -q "down" || fail "peers table should show node2 down"

FAILED=0
echo "PASS"
