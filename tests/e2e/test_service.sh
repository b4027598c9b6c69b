#!/usr/bin/env bash
# test_service.sh — fieldmeshd as a systemd service (packaging/fieldmeshd.service,
# node/daemon/service.c, docs/service.md):
#  1. the unit passes `systemd-analyze verify` and `systemd-analyze security
#     --offline=yes` scores it 2.0 or better (the score is printed);
#  2. under a fake service manager (a Python receiver on $NOTIFY_SOCKET, a
#     path and an abstract name) the daemon says READY=1 with a STATUS=,
#     pings WATCHDOG=1 at half of $WATCHDOG_USEC, and says STOPPING=1 on
#     SIGTERM;
#  3. with stderr on the journal ($JOURNAL_STREAM names it) log lines carry
#     syslog priority prefixes (<6> info) and no time stamp; with a
#     $JOURNAL_STREAM naming another stream they stay as they were.
. "$(dirname "$0")/lib_gossip.sh"
unset NOTIFY_SOCKET WATCHDOG_USEC WATCHDOG_PID JOURNAL_STREAM
UNIT="${FM_SRC:?}/packaging/fieldmeshd.service"

# ---- 1. the unit file ----
if command -v systemd-analyze >/dev/null 2>&1; then
    mkdir -p "$T/unit" "$T/man/man1" "$T/man/man5" "$T/man/man8"
    # verify checks that ExecStart= exists and Documentation=man: pages resolve
    sed "s#/usr/bin/fieldmeshd#$FIELDMESHD#" "$UNIT" >"$T/unit/fieldmeshd.service"
    mandir="$(dirname "$FIELDMESH")/man"
    for p in "$mandir"/*.[158]; do
        [ -f "$p" ] && ln -s "$p" "$T/man/man${p##*.}/"
    done
    verify_args=()
    [ -f "$mandir/fieldmeshd.8" ] || verify_args=(--man=no)
    out=$(cd "$T/unit" && MANPATH="$T/man" systemd-analyze verify "${verify_args[@]}" ./fieldmeshd.service 2>&1) ||
        fail "systemd-analyze verify: $out"
    [ -z "$out" ] || fail "systemd-analyze verify complains: $out"
    if systemd-analyze security --help 2>&1 | grep -q -- '--offline'; then
        out=$(cd "$T/unit" && systemd-analyze security --offline=yes ./fieldmeshd.service 2>&1)
        score=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for fieldmeshd.service: \([0-9.]*\).*/\1/p')
        [ -n "$score" ] || fail "no exposure score from systemd-analyze security: $out"
        for must in "PrivateTmp=" "NoNewPrivileges=" "ProtectSystem=" "RestrictAddressFamilies=~AF_PACKET"; do
            printf '%s\n' "$out" | grep -q "✓ $must" || fail "security does not credit $must"
        done
        (cd "$T/unit" && systemd-analyze security --offline=yes --threshold=20 ./fieldmeshd.service >/dev/null 2>&1) ||
            fail "exposure $score is above 2.0"
        log "unit: verify clean, exposure $score"
    else
        log "unit: verify clean (this systemd-analyze has no --offline; security not scored)"
    fi
else
    log "skip part 1: no systemd-analyze"
fi
for k in "Type=notify" "User=fieldmesh" "StateDirectory=fieldmesh" "ProtectSystem=strict" \
         "NoNewPrivileges=yes" "PrivateTmp=yes" "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6" \
         "WatchdogSec="; do
    grep -q "^$k" "$UNIT" || fail "the unit lacks $k"
done

# ---- 2. sd_notify: readiness, watchdog, stopping ----
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 needed for the notify receiver"; exit 77; }
cat >"$T/notify.py" <<'PY'
import socket, sys
name, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + name[1:] if name.startswith("@") else name)
open(out + ".bound", "w").close()
with open(out, "a") as f:
    while True:
        msg = s.recv(4096).decode()
        f.write(msg.replace("\n", "|") + "\n")
        f.flush()
PY
testbed 1 line
RECV_PIDS=()
cleanup_recv() { local p; for p in "${RECV_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; cleanup; }
trap cleanup_recv EXIT

# pings_at_least N LOG: LOG holds N watchdog pings or more.
pings_at_least() { [ "$(grep -c '^WATCHDOG=1$' "$2")" -ge "$1" ]; }

# notify_run SOCKETNAME: one daemon lifetime under a fake manager.
notify_run() {
    local sock=$1 log="$T/notify.$2"
    python3 "$T/notify.py" "$sock" "$log" &
    RECV_PIDS+=($!)
    wait_for 30 "the notify receiver to bind" test -f "$log.bound"
    NOTIFY_SOCKET="$sock" WATCHDOG_USEC=400000 start_node 1
    wait_for 30 "READY=1 on $sock" grep -q '^READY=1|STATUS=node node1, 0 peer(s)$' "$log"
    # pings every 200 ms: wait for 5 of them (1 s), bounded
    wait_for 30 "5 watchdog pings" pings_at_least 5 "$log"
    [ "$(head -n1 "$log")" = "READY=1|STATUS=node node1, 0 peer(s)" ] || fail "READY was not the first message: $(head -n3 "$log")"
    stop_node 1
    wait_for 30 "STOPPING=1" grep -q '^STOPPING=1$' "$log"
    [ "$(tail -n1 "$log")" = "STOPPING=1" ] || fail "a message after STOPPING=1: $(tail -n3 "$log")"
    log "notify on $sock: READY, $(grep -c '^WATCHDOG=1$' "$log") pings, STOPPING"
}
notify_run "$T/notify.sock" path
notify_run "@fm-notify-$$-$RANDOM" abstract

# WATCHDOG_PID naming another process: ready, but no pings for us.
python3 "$T/notify.py" "$T/notify2.sock" "$T/notify.other" &
RECV_PIDS+=($!)
wait_for 30 "the notify receiver to bind" test -f "$T/notify.other.bound"
NOTIFY_SOCKET="$T/notify2.sock" WATCHDOG_USEC=200000 WATCHDOG_PID=1 start_node 1
wait_for 30 "READY=1" grep -q '^READY=1' "$T/notify.other"
stop_node 1
wait_for 30 "STOPPING=1" grep -q '^STOPPING=1$' "$T/notify.other"
if grep -q '^WATCHDOG=1$' "$T/notify.other"; then fail "pinged a watchdog meant for pid 1"; fi

# ---- 3. journal priorities ----
: >"$T/daemon1.log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$T/daemon1.log") start_node 1
wait_for 30 "the start line on the journal" grep -q '^<6>fieldmeshd: node node1 ' "$T/daemon1.log"
stop_node 1
grep -q '^<6>fieldmeshd: signal 15: shutting down$' "$T/daemon1.log" ||
    fail "no <6> shutdown line: $(cat "$T/daemon1.log")"
if grep -vq '^<[3467]>' "$T/daemon1.log"; then fail "a journal line without a priority: $(grep -v '^<[3467]>' "$T/daemon1.log")"; fi
: >"$T/daemon1.log"
JOURNAL_STREAM=1:1 start_node 1
wait_for 30 "the start line on stderr" grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z INFO fieldmeshd: node node1 ' "$T/daemon1.log"
stop_node 1
if grep -q '^<' "$T/daemon1.log"; then fail "priority prefixes on a stream that is not the journal"; fi
log "journal: <N> prefixes only on the journal stream"
FAILED=0
echo "ok"
