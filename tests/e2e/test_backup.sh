#!/usr/bin/env bash
# test_backup.sh — `fieldmesh backup` of a running node, `fieldmesh restore`
# on a new machine, and the restored node's wait for its peers.
#
# node1 writes while a backup is taken (a hot copy mid-burst), then goes on
# writing; those later ops reach node2. node1's machine dies. Its backup is
# restored into a new data dir: the restored node refuses to sign (exit 3,
# naming the way out) until its daemon has pulled the ops the backup missed
# from node2; then it signs at the next seq, and both nodes hold one log:
# no fork, equal digests, every op of the old machine there once.
# Also: refusals (existing files, a damaged file, a wrong passphrase) land
# nothing; `restore --confirmed` ends the wait by hand; doctor reports the
# last backup; usage errors exit 2.
. "$(dirname "$0")/lib_gossip.sh"

testbed 2 line
start_node 1
start_node 2
wait_for 30 "node1's daemon up" daemon_up 1

for k in 1 2 3; do
    fm 1 incident report --category fire --lat 50.$k --lon 4 --desc "before $k" >/dev/null ||
        fail "early report"
done

# a backup taken in the middle of a burst of writes
(for k in $(seq 1 8); do
    fm 1 incident report --category fire --lat 51.$k --lon 4 --desc "burst $k" >/dev/null || exit 1
done) &
burst=$!
burst_started() { fm 1 incident list --json | grep -q '"burst 2"'; }
wait_for 30 "the burst under way" burst_started
fm 1 backup "$T/node1.fmbk" >"$T/backup.out" 2>&1 || { cat "$T/backup.out"; fail "backup"; }
grep -q "backup of node node1 written to $T/node1.fmbk" "$T/backup.out" || fail "backup output"
grep -q "copying the store" "$T/backup.out" && fail "progress printed when stderr is no terminal"
wait "$burst" || fail "burst writes"
[ "$(stat -c %a "$T/node1.fmbk")" = 600 ] || fail "backup file is not mode 0600"

# on a terminal, the copy shows its progress (on stderr, then cleared)
if command -v script >/dev/null; then
    script -qec "$FIELDMESH -c $(conf 1) backup $T/tty.fmbk" /dev/null >"$T/tty.out" 2>&1 ||
        fail "backup on a terminal"
    grep -q "copying the store: .* MiB" "$T/tty.out" || { cat "$T/tty.out"; fail "no progress on a terminal"; }
fi

# more writes after the backup: only node2 will have them
for k in 1 2 3; do
    fm 1 incident report --category fire --lat 52.$k --lon 4 --desc "after backup $k" >/dev/null ||
        fail "later report"
done
wait_for 40 "node1's ops at node2" digests_equal 1 2
own_head() { fm "$1" log --json --author "$2" | grep -c '"seq":'; }
k1=$(node_key 1)
head_before=$(own_head 1 "$k1")

# refusals that must land nothing
fm 1 backup "$T/node1.fmbk" >/dev/null 2>"$T/err" && fail "backup over an existing file"
grep -q "exists" "$T/err" || fail "backup over a file: no reason given"
fm 1 backup >/dev/null 2>&1; [ $? -eq 2 ] || fail "backup without FILE: not a usage error"
fm 1 restore "$T/node1.fmbk" --confirmed >/dev/null 2>&1; [ $? -eq 2 ] ||
    fail "restore FILE --confirmed: not a usage error"
fm 1 restore "$T/node1.fmbk" >/dev/null 2>"$T/err"; [ $? -eq 1 ] ||
    fail "restore over a live node did not fail with exit 1"
grep -q "node.key exists" "$T/err" || fail "restore over a node: no reason given"

stop_node 1 # the old machine is gone

# a new machine: node1's config and passphrase, an empty data dir
new_machine() {
    mkdir -p "$T/$1" && cp "$(conf 1)" "$T/$1/node.yaml" &&
        cp "$T/tb/node1/passphrase" "$T/$1/passphrase" && chmod 600 "$T/$1/passphrase"
}
nm() { local d=$1; shift; "$FIELDMESH" -c "$T/$d/node.yaml" "$@"; }

new_machine bad
head -c 2000 "$T/node1.fmbk" >"$T/cut.fmbk"
nm bad restore "$T/cut.fmbk" >/dev/null 2>"$T/err"; [ $? -eq 1 ] || fail "truncated backup restored"
grep -q "truncated" "$T/err" || { cat "$T/err"; fail "truncated backup: no reason"; }
python3 -c '
import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[len(b) // 2] ^= 1
open(sys.argv[2], "wb").write(b)' "$T/node1.fmbk" "$T/flip.fmbk"
nm bad restore "$T/flip.fmbk" >/dev/null 2>"$T/err"; [ $? -eq 3 ] || fail "damaged backup restored"
grep -q "damaged" "$T/err" || { cat "$T/err"; fail "damaged backup: no reason"; }
echo "wrong passphrase" >"$T/wrong" && chmod 600 "$T/wrong"
nm bad restore "$T/node1.fmbk" --passphrase-file "$T/wrong" >/dev/null 2>"$T/err"
[ $? -eq 3 ] || fail "restore with a wrong passphrase did not exit 3"
grep -q "do not open with the passphrase" "$T/err" || { cat "$T/err"; fail "wrong passphrase: no reason"; }
[ -z "$(ls -A "$T/bad/data" 2>/dev/null)" ] || fail "a failed restore left files: $(ls "$T/bad/data")"

new_machine new
nm new restore "$T/node1.fmbk" >"$T/restore.out" 2>&1 || { cat "$T/restore.out"; fail "restore"; }
grep -q "restored node node1" "$T/restore.out" || fail "restore output"
restored_seq=$(sed -n 's/.*own log up to seq \([0-9]*\).*/\1/p' "$T/restore.out")
[ "$restored_seq" -ge 6 ] && [ "$restored_seq" -lt "$head_before" ] ||
    fail "restored head $restored_seq not between the early writes and $head_before"
log "restored node1's backup: own log up to seq $restored_seq, peers hold $head_before"

# restored, unconfirmed: no signing, and the way out is named
nm new incident report --category fire --lat 53 --lon 4 --desc "too early" >/dev/null 2>"$T/err"
[ $? -eq 3 ] || fail "restored node signed before any peer confirmed"
grep -q "restore --confirmed" "$T/err" || { cat "$T/err"; fail "refusal does not name the way out"; }
nm new status --json | grep -q '"restored_unconfirmed": *true' || fail "status: not restored"
nm new doctor >"$T/doctor.out"; [ $? -eq 1 ] || fail "doctor: restored state not a problem"
grep -q "restored from a backup" "$T/doctor.out" || fail "doctor does not report the restored state"

# its daemon reaches node2, pulls what the backup missed, then may sign
"$FIELDMESHD" -c "$T/new/node.yaml" --log-level info 2>>"$T/daemon9.log" &
PIDS[9]=$!
may_sign() { nm new status --json | grep -q '"may_sign": *true'; }
wait_for 60 "the restored node confirmed by node2" may_sign
grep -q "restored store confirmed" "$T/daemon9.log" || fail "no confirmation in the daemon log"
[ "$(nm new log --json --author "$k1" | grep -c '"seq":')" -eq "$head_before" ] ||
    fail "the restored node did not recover the ops written after the backup"
nm new incident report --category fire --lat 54 --lon 4 --desc "after restore" >/dev/null ||
    fail "restored node cannot write once confirmed"
new_digests_equal() { [ "$(nm new digest)" = "$(digest 2)" ]; }
wait_for 40 "equal digests, restored node and node2" new_digests_equal
[ "$(own_head 2 "$k1")" -eq $((head_before + 1)) ] || fail "node2 lacks the post-restore op"
for src in "nm new" "fm 2"; do
    $src status --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(1 if d["forks"] or d.get("cloned_keys") else 0)' || fail "$src: a fork after restore"
    n=$($src incident list --json | grep -c '"burst \|"after backup \|"before ')
    [ "$n" -eq 14 ] || fail "$src: $n of the old machine's 14 incidents"
done

# --confirmed: a restore whose peers will never answer
new_machine lone
nm lone restore "$T/node1.fmbk" >/dev/null 2>&1 || fail "second restore"
nm lone restore --confirmed >/dev/null || fail "restore --confirmed"
nm lone status --json | grep -q '"restored_unconfirmed": *false' || fail "still restored"
nm lone incident report --category fire --lat 55 --lon 4 --desc "lone" >/dev/null ||
    fail "no write after --confirmed"
nm lone restore --confirmed >/dev/null 2>&1; [ $? -eq 1 ] || fail "--confirmed twice did not fail"

# doctor: node1 made a backup, node2 never did
last="$T/node1.fmbk" # the last backup made on node1 (absolute path)
[ -f "$T/tty.fmbk" ] && last="$T/tty.fmbk"
"$FIELDMESH" -c "$(conf 1)" doctor --json >"$T/d1.json"
python3 -c '
import json, sys
c = [x for x in json.load(open(sys.argv[1]))["checks"] if x["check"] == "backup"]
sys.exit(0 if c and c[0]["status"] == "ok" and sys.argv[2] in c[0]["what"] else 1)' "$T/d1.json" "$last" ||
    { cat "$T/d1.json"; fail "doctor does not show node1's backup"; }
fm 2 doctor --json >"$T/d2.json"
python3 -c '
import json, sys
c = [x for x in json.load(open(sys.argv[1]))["checks"] if x["check"] == "backup"]
sys.exit(0 if c and c[0]["status"] == "warn" and "backup" in c[0]["fix"] else 1)' "$T/d2.json" ||
    { cat "$T/d2.json"; fail "doctor does not warn of node2's missing backup"; }

FAILED=0
echo "PASS"
