#!/usr/bin/env bash
# Console login lockout survives a restart (docs/console-api.md): five
# failed logins lock a name for 300 s; after restarting fieldmeshd the right
# password is still refused with 429 and Retry-After; four failures, a
# restart and one more lock too; a lock whose time has passed (the file
# edited while the daemon is down, standing in for 300 s) lets the login
# through; a lock the file claims for days is cut to 300 s; a successful
# login wipes the count; a damaged file is logged and ignored.
. "$(dirname "$0")/lib_gossip.sh"

command -v python3 >/dev/null || { echo "SKIP: python3 needed"; exit 77; }

testbed 1 mesh
printf 'right-pass-1\n' >"$T/pw"
for n in lockme counted resetme; do
    fm 1 operator add "$n" --role dispatcher --password-file "$T/pw" >/dev/null || fail "operator add $n"
done
LOCKFILE="$T/tb/node1/data/console-lockout"
export CONSOLE1=$(awk '/^url:/ {print $2}' "$T/tb/node1/console.txt") LOCKFILE
STARTS=0
up() {
    start_node 1
    STARTS=$((STARTS + 1))
    wait_for 30 "console up ($STARTS)" sh -c "[ \$(grep -c 'console: serving' '$T/daemon1.log') -ge $STARTS ]"
}
restart() { stop_node 1; up; }
# login NAME PASSWORD EXPECTED_STATUS...: one login per expected status
login() {
    local name=$1 pw=$2
    shift 2
    PYTHONPATH="$(dirname "$0")" python3 - "$name" "$pw" "$@" <<'PY' || fail "login $name: see above"
import os, sys
from console_client import Console
name, pw, want = sys.argv[1], sys.argv[2], [int(x) for x in sys.argv[3:]]
c = Console(os.environ["CONSOLE1"])
for i, w in enumerate(want):
    st, body, h = c.login(name, pw)
    if st != w:
        print("FAIL: login %s #%d: %d, expected %d: %s" % (name, i + 1, st, w, body))
        sys.exit(1)
    if st == 429:
        ra = int(h.get("Retry-After", "0"))
        if not (0 < ra <= 300 and body["code"] == "locked" and body["retry_after_s"] == ra):
            print("FAIL: 429 without a sane Retry-After: %s %s" % (ra, body))
            sys.exit(1)
print("ok: %s -> %s" % (name, want))
PY
}

up
# five failures lock; a restart does not unlock, not even the right password
login lockme wrong-pass 401 401 401 401 429
[ "$(stat -c %a "$LOCKFILE")" = 600 ] || fail "lockout file mode $(stat -c %a "$LOCKFILE")"
grep -q "^lockme	0	[0-9]*$" "$LOCKFILE" || { cat "$LOCKFILE"; fail "no lock for lockme in the file"; }
# four failures, then a restart: the count goes on
login counted wrong-pass 401 401 401 401
restart
grep -q "failed-login counts of 2 name(s) read back" "$T/daemon1.log" || fail "no read-back log line"
login lockme right-pass-1 429 429
login counted wrong-pass 429
login counted right-pass-1 429
# a successful login wipes the count, on disk too
login resetme wrong-pass 401 401 401 401
login resetme right-pass-1 200
grep -q "^resetme	" "$LOCKFILE" && { cat "$LOCKFILE"; fail "resetme still counted after its login"; }
restart
login resetme wrong-pass 401 401 401 401 429

# the lock's time passes (the file says so while the daemon is down)
stop_node 1
python3 - <<'PY' || fail "editing the lockout file"
import os, time
p = os.environ["LOCKFILE"]
now = int(time.time() * 1000)
out = []
for line in open(p):
    f = line.rstrip("\n").split("\t")
    if f[0] == "lockme":
        line = "lockme\t0\t%d\n" % (now - 1000)      # expired
    elif f[0] == "counted":
        line = "counted\t0\t%d\n" % (now + 10 * 86400000)  # "ten days": cut to 300 s
    out.append(line)
open(p, "w").write("".join(out))
PY
up
login lockme right-pass-1 200
PYTHONPATH="$(dirname "$0")" python3 - <<'PY' || fail "a far lock was not cut to 300 s"
import os
from console_client import Console
st, body, h = Console(os.environ["CONSOLE1"]).login("counted", "right-pass-1")
assert st == 429 and 290 <= int(h["Retry-After"]) <= 300, (st, dict(h))
print("ok: a lock of ten days in the file is cut to", h["Retry-After"], "s")
PY

# a damaged file: logged, counts start from zero, logins work
stop_node 1
printf 'lockme\tmany\t0\n' >"$LOCKFILE"
up
grep -q "cannot read .*console-lockout: line 1" "$T/daemon1.log" || fail "a damaged file is not logged"
login lockme right-pass-1 200
FAILED=0
echo "PASS"
