#!/usr/bin/env bash
# test_key_limits.sh — one enrolled key opening 2,000 connections at once
# (issue 9 item 11; docs/sync.md, "Per-key limits"). node1 and node2 run
# (a mesh of three: node1 admits node3's key as a configured peer); node3
# does not run: an attacker holding node3's key (tests/e2e/connflood.c)
# dials node1 2,000 times at once for 30 s, saying hello on every
# connection it gets, and each refused or closed one redials every 100 ms.
# node1 must hold the key to gossip.max_conns_per_key (4) connections,
# count the rest in conns_refused_per_key (status) and conns_refused
# (peers), log about it once per key a minute, keep its memory bounded, and
# keep syncing with node2 all along. Once the attacker is gone its slots
# are free: the real node3 starts and connects to node1.
#
# The memory bound: before this limit the same attack took node1 from
# 7 MB to 86 MB resident in 15 s and still growing (2,000 admitted
# connections, ~40 kB each in libzmq); with it, +13 to +23 MB over
# several runs (the 256 connection slots, gossip.max_conns, busy with
# handshakes being refused and redialled, and allocator arenas glibc
# keeps). The test allows +56 MB (a more loaded machine), +160 MB under
# AddressSanitizer (its redzones and quarantine): below the +79 MB the
# unlimited daemon had reached after 15 s, still growing.
. "$(dirname "$0")/lib_gossip.sh"

FLOOD=${FM_CONNFLOOD:-$(dirname "$FIELDMESH")/connflood}
[ -x "$FLOOD" ] || { echo "SKIP: no connflood at $FLOOD"; FAILED=0; exit 77; }
jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }
# node1's record of peer $1 (a key), field $2
peer_field() {
    fm 1 peers --json | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p["key"] == sys.argv[1]:
        print(p[sys.argv[2]])' "$1" "$2"
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/${PIDS[1]}/status"; }

BOUND_MB=56
if ldd "$FIELDMESHD" 2>/dev/null | grep -q libasan; then
    BOUND_MB=160
    # ASan keeps freed memory in a quarantine (256 MB by default): with
    # ~150,000 refused connections it filled it and RSS rose by 317 MB
    # with nothing retained. A small quarantine measures retention.
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"
fi

testbed 3 mesh
key3=$(node_key 3)
start_node 1
start_node 2
id=$(fm 2 incident report --category fire --lat 30.1 --lon 120.1 --desc "before") ||
    fail "report at node2"
wait_for 60 "node2's report at node1" fm 1 incident show "$id"
sleep 2 # settle: the store mapped, the first syncs done
rss_before=$(rss_kb)
log "node1 resident before: $rss_before kB"

"$FLOOD" -c "$(conf 3)" --to "tcp://127.0.0.1:$BASE" --server "$(node_key 1)" -n 2000 \
    --seconds 30 --speak >"$T/flood.out" 2>"$T/flood.err" &
flood=$!
PIDS[flood]=$flood
# node1's memory and node3's connection count while the attack lasts
(
    while kill -0 "$flood" 2>/dev/null; do
        echo "rss $(rss_kb)"
        echo "conns $(peer_field "$key3" conns 2>/dev/null)"
        sleep 0.5
    done
) >"$T/samples" 2>/dev/null &
sampler=$!

refusals_over() { [ "$(fm 1 status --json | jget 'd["conns_refused_per_key"]')" -ge "$1" ]; }
wait_for 60 "the attack under way (100 refusals)" refusals_over 100
early=$(fm 1 status --json | jget 'd["conns_refused_per_key"]')
# node2 keeps syncing with node1 throughout, both ways
rounds=0
for k in 1 2 3; do
    id=$(fm 2 incident report --category fire --lat 30.$k --lon 120.1 --desc "during $k") ||
        fail "report $k at node2"
    wait_for 60 "node2's report $k at node1 during the attack" fm 1 incident show "$id"
    id=$(fm 1 incident report --category flood --lat 31.$k --lon 120.1 --desc "from 1 $k") ||
        fail "report $k at node1"
    wait_for 60 "node1's report $k at node2 during the attack" fm 2 incident show "$id"
    kill -0 "$flood" 2>/dev/null && rounds=$k
done
[ "$rounds" -ge 1 ] || fail "the attack ended before node2 was checked: $(cat "$T/flood.err")"
log "node2 synced both ways $rounds time(s) during the attack"
wait "$flood" || fail "connflood failed: $(cat "$T/flood.err")"
unset "PIDS[flood]"
wait "$sampler" 2>/dev/null
read -r _ tried _ succeeded _ refused _ open _ max_open <"$T/flood.out" ||
    fail "no connflood result"
log "attacker: $tried connections made, $succeeded handshakes succeeded, $refused refused," \
    "at most $max_open open at once"

[ "$tried" -ge 2000 ] || fail "only $tried connections were made"
[ "$max_open" -le 4 ] || fail "the attacker held $max_open connections at once (cap 4)"
[ "$max_open" -ge 1 ] || fail "the key got no connection at all (cap 4)"
max_conns=$(awk '$1 == "conns" && $2 ~ /^[0-9]+$/ { if ($2 > m) m = $2 } END { print m + 0 }' "$T/samples")
[ "$max_conns" -le 4 ] || fail "node1 counted $max_conns connections of node3's key (cap 4)"
sj=$(fm 1 status --json) || fail "status --json"
counted=$(echo "$sj" | jget 'd["conns_refused_per_key"]')
# how many of the attacker's dials reach the per-key check depends on how
# fast node1 gets through handshakes (a loaded machine: 784 of 13,505 in
# one run, issue 15); what must hold is that they are counted all along
[ "$counted" -gt "$early" ] ||
    fail "node1 counted $counted refusals of $tried connections, $early when the attack began"
log "node1 counted $counted per-key refusals ($early early in the attack) of $tried connections"
[ "$counted" -ge "$refused" ] || fail "node1 counted $counted refusals, the attacker saw $refused"
[ "$(peer_field "$key3" conns_refused)" = "$counted" ] || fail "peers --json disagrees with status"
fm 1 peers | grep -q "^limits: node3 holds [0-9]* connection(s) into this node; $counted more refused" ||
    fail "peers does not show the refusals: $(fm 1 peers)"
fm 1 status | grep -q "^limits:    $counted connection(s) refused over the per-key cap" ||
    fail "status does not show the refusals"
lines=$(grep -c "refused a connection from node $key3" "$T/daemon1.log")
[ "$lines" -ge 1 ] && [ "$lines" -le 2 ] || fail "$lines log lines for $counted refusals (one a minute)"

rss_peak=$(awk '$1 == "rss" && $2 ~ /^[0-9]+$/ { if ($2 > m) m = $2 } END { print m + 0 }' "$T/samples")
[ "$rss_peak" -gt 0 ] || fail "no memory sample"
log "node1 resident: $rss_before kB before, $rss_peak kB at most during the attack (bound +$BOUND_MB MB)"
[ $(( rss_peak - rss_before )) -le $(( BOUND_MB * 1024 )) ] ||
    fail "node1 grew by $(( (rss_peak - rss_before) / 1024 )) MB under the attack (bound $BOUND_MB MB)"

# the attacker is gone: its slots free up, and the real node3 connects
conns3_is() { [ "$(peer_field "$key3" conns)" "$1" "$2" ]; }
wait_for 30 "node3's slots at node1 free" conns3_is = 0
start_node 3
wait_for 60 "node3 connected into node1" conns3_is -ge 1
node1_seen_by_3() {
    fm 3 peers --json | python3 -c '
import json, sys
sys.exit(0 if any(p["name"] == "node1" and p["connected"] and not p["refused_us"]
                  for p in json.load(sys.stdin)) else 1)'
}
wait_for 60 "node3 connected to node1, not refused" node1_seen_by_3
id=$(fm 3 incident report --category fire --lat 32.1 --lon 120.1 --desc "node3 back") ||
    fail "report at node3"
wait_for 60 "node3's report at node1" fm 1 incident show "$id"
[ "$(fm 1 status --json | jget 'd["conns_refused_per_key"]')" = "$counted" ] ||
    fail "the real node3 was refused"
rss_after=$(rss_kb)
log "figures: $tried connections tried, $counted refused by node1 ($refused seen refused by" \
    "the attacker), at most $max_open open; node1 resident $rss_before kB before," \
    "$rss_peak kB peak, $rss_after kB after"

stop_node 3
stop_node 2
stop_node 1
FAILED=0
echo "PASS: test_key_limits"
