#!/usr/bin/env bash
# fieldmeshd started while its listen port is still held (a restart while
# the old sockets close, or another program's listener going away) waits
# for the port for a bounded time instead of exiting: it listens once the
# holder lets go, syncs, and stops cleanly.
source "$(dirname "$0")/lib_gossip.sh"

testbed 2 line
port=$(sed -n 's|.*listen: *"*tcp://[^:]*:\([0-9]*\).*|\1|p' "$(conf 1)")
[ -n "$port" ] || fail "no listen port in $(conf 1)"
log "holding port $port until node1 has seen it taken"
python3 -c '
import os, socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past TIME-WAIT of an earlier run
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1)
open(sys.argv[2], "w").close()
# held until the test says node1 has seen the port taken (bounded), so a
# slow daemon start on a loaded machine cannot miss the taken port
t0 = time.time()
while not os.path.exists(sys.argv[3]) and time.time() - t0 < 120:
    time.sleep(0.1)
' "$port" "$T/held" "$T/release" &
holder=$!
PIDS+=("$holder")
wait_for 30 "the holder listens on $port" test -e "$T/held"

start_node 1
wait_for 30 "node1 says the port is in use" grep -q "is in use: trying again" "$T/daemon1.log"
kill -0 "${PIDS[1]}" 2>/dev/null || fail "node1 exited while the port was held"
touch "$T/release"
wait "$holder"
wait_for 30 "node1 listens" grep -q "listening on" "$T/daemon1.log"
kill -0 "${PIDS[1]}" 2>/dev/null || fail "node1 is not running"

# and it works: node2 dials it and an incident made on node2 arrives
start_node 2
id=$(fm 2 incident report --category fire --lat 30.1 --lon 120.1) || fail "report failed"
wait_for 30 "node1 has $id" fm 1 incident show "$id"
stop_node 1
stop_node 2
log "ok"
