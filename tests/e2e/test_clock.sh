#!/usr/bin/env bash
# test_clock.sh — a node whose clock is 2 hours fast joins the mesh (the
# test-only FM_TEST_CLOCK_OFFSET_MS shifts its daemon's and its CLI's
# clock). Its ops are still stored everywhere (every node keeps the same op
# set: equal digests) but flagged by the others (`status`: future_ops), the
# others keep their own clocks (their HLC is not dragged two hours ahead),
# and reports made on correct clocks stay in the order they were made. The
# HLC high-water mark also survives a restart.
. "$(dirname "$0")/lib_gossip.sh"

FAST_MS=7200000
testbed 3 line
start_node 1
start_node 2
FM_TEST_CLOCK_OFFSET_MS=$FAST_MS start_node 3
fm3() { FM_TEST_CLOCK_OFFSET_MS=$FAST_MS fm 3 "$@"; }

a=$(fm 1 incident report --category fire --lat 50 --lon 4 --desc "first, correct clock") || fail "a"
sleep 0.05
f=$(fm3 incident report --category fire --lat 50.1 --lon 4 --desc "from the fast clock") || fail "f"
wait_for 30 "node3's report at node1" bash -c "'$FIELDMESH' -c '$(conf 1)' incident list --json | grep -q '$f'"
b=$(fm 2 incident report --category fire --lat 50.2 --lon 4 --desc "second, correct clock") || fail "b"
sleep 0.05
c=$(fm 1 incident report --category fire --lat 50.3 --lon 4 --desc "third, correct clock") || fail "c"
wait_for 30 "equal digests" digests_equal 1 2 3

check_node() {
    fm "$1" status --json | python3 -c '
import json, sys, time, datetime
d = json.load(sys.stdin)
key, fast = sys.argv[1], int(sys.argv[2])
fl = [x for x in d["future_ops"] if x["author"] == key]
assert fl and fl[0]["ops"] >= 1, "node3 ops not flagged: %r" % d["future_ops"]
assert fl[0]["max_ahead_ms"] > fast - 120000, "flagged only %d ms ahead" % fl[0]["max_ahead_ms"]
clock = datetime.datetime.strptime(d["clock"][:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc).timestamp()
assert clock < time.time() + 600, "clock dragged ahead: %s" % d["clock"]
' "$(node_key 3)" "$FAST_MS" || fail "node$1: fast node not flagged, or clock dragged"
}
check_node 1
check_node 2
# the fast node's own status does not flag itself
fm3 status --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(1 if d["future_ops"] else 0)' || fail "node3 flags its own ops"
# correct-clock reports in the order they were made (newest first)
order=$(fm 2 incident list --json | python3 -c '
import json, sys
ids = [x["id"] for x in json.load(sys.stdin)]
print(" ".join(i for i in ids if i in sys.argv[1:]))' "$a" "$b" "$c")
[ "$order" = "$c $b $a" ] || fail "reports out of order on node2: $order (want $c $b $a)"
fm 1 peers --json | python3 -c '
import json, sys
p = [x for x in json.load(sys.stdin) if x["name"] == "node2"]
assert p and p[0]["skew_ms"] is not None and abs(p[0]["skew_ms"]) < 60000
' || fail "node1 sees node2 skewed"
fm 2 peers --json | python3 -c '
import json, sys
p = [x for x in json.load(sys.stdin) if x["name"] == "node3"]
assert p and p[0]["skew_ms"] is not None and p[0]["skew_ms"] > 7000000, p
' || fail "node2 does not see node3 2 h ahead"
grep -q "clock differs" "$T/daemon2.log" || fail "node2 did not log node3's skew"

# the HLC high-water mark persists: restart node1 with its clock set back an
# hour; its next stamp is still above every stamp it made before
maxhlc() { fm 1 log --json | python3 -c '
import json, sys
keys = sys.argv[1:]
print(max(e["hlc"] for e in json.load(sys.stdin) if e["author"] in keys))' "$@"; }
hw=$(maxhlc "$(node_key 1)" "$(node_key 2)") || fail "log"
stop_node 1
FM_TEST_CLOCK_OFFSET_MS=-3600000 start_node 1
FM_TEST_CLOCK_OFFSET_MS=-3600000 fm 1 incident report --category x --lat 1 --lon 1 >/dev/null || fail "d"
now=$(maxhlc "$(node_key 1)") || fail "log"
[ "$now" -gt "$hw" ] || fail "stamp after restart ($now) not above the old high-water mark ($hw)"
log "fast node flagged, clocks kept, order kept, high-water mark kept"

for i in 1 2 3; do stop_node "$i"; done
FAILED=0
echo "PASS: test_clock"
