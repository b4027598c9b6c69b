#!/usr/bin/env bash
# Ops written through the console name the operator (op format 2,
# docs/console-api.md): a report, a dispatch and a ticket cancel made by
# operator 张伟 on node1's API show "operator": "张伟" on node2 after gossip
# (its API timeline and ticket history, `ticket show` BY column and JSON,
# `log`); two operators writing at once each get their own name; an op
# made from the CLI names nobody, one with --operator names that person.
# Then the old path: node1 restarted with `op_format: 1` writes no operator
# into its console's ops.
. "$(dirname "$0")/lib_gossip.sh"

command -v python3 >/dev/null || { echo "SKIP: python3 needed"; exit 77; }

testbed 2 mesh
grep -q '^  op_format: 7$' "$(conf 1)" || fail "the testbed config does not say op_format: 7"
printf 'dispatch-pass-1\n' >"$T/pw"
fm 1 operator add 张伟 --role dispatcher --password-file "$T/pw" >/dev/null || fail "operator add"
fm 1 operator add 王芳 --role calltaker --password-file "$T/pw" >/dev/null || fail "operator add 2"
for i in 1 2; do start_node "$i"; done
wait_for 30 "node1 console up" grep -q "console: serving" "$T/daemon1.log"
wait_for 30 "node2 console up" grep -q "console: serving" "$T/daemon2.log"
fm 1 directory publish "$FM_SRC/configs/directory.yaml" >/dev/null || fail "directory publish"

export T
export CONSOLE1=$(awk '/^url:/ {print $2}' "$T/tb/node1/console.txt")
export CONSOLE2=$(awk '/^url:/ {print $2}' "$T/tb/node2/console.txt")
export PW2=$(awk '/^password:/ {print $2}' "$T/tb/node2/console.txt")

PYTHONPATH="$(dirname "$0")" python3 - >"$T/py1.out" <<'PY' || { cat "$T/py1.out"; fail "console checks (above)"; }
import os, sys, time
from console_client import Console

def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        sys.exit(1)

def wait(secs, what, fn):
    end = time.time() + secs
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    check(False, "timed out after %ds: %s" % (secs, what))

c1, c2 = Console(os.environ["CONSOLE1"]), Console(os.environ["CONSOLE2"])
check(c1.login("张伟", "dispatch-pass-1")[0] == 200, "张伟 logs in on node1")
check(c2.login("demo", os.environ["PW2"])[0] == 200, "demo logs in on node2")
st, body = c1.post("/api/incidents", {"category": "building_fire", "lat": 29.08, "lon": 119.65,
                                      "address": "金华 八一北街 1 号", "priority": 2})
check(st == 201, "report through node1's API: %s" % body)
iid = body["id"]
units = wait(60, "units on node1", lambda: [u for u in c1.get("/api/units")[1]["units"]
                                            if u["kind"] == "engine" and u["status"] == "available"])
st, body = c1.post("/api/dispatch", {"incident": iid, "units": [units[0]["id"]]})
check(st == 201, "dispatch through node1's API: %s" % body)
tid = body["tickets"][0]
st, body = c1.post("/api/tickets/%s/cancel" % tid, {"reason": "duplicate call"})
check(st == 200 and body["state"] == "cancelled", "cancel through node1's API: %s" % body)

# node2, after gossip
t2 = wait(60, "the cancel on node2", lambda: (lambda r: r[1] if r[0] == 200 and
          r[1]["ticket"]["state"] == "cancelled" else None)(c2.get("/api/tickets/" + tid)))
hist = {e["step"]: e for e in t2["history"]}
check(hist["dispatch"]["operator"] == "张伟", "node2: the dispatch names operator 张伟: %s" % hist["dispatch"])
check(hist["cancel"]["operator"] == "张伟", "node2: the cancel names operator 张伟: %s" % hist["cancel"])
st, inc = c2.get("/api/incidents/" + iid)
rep = [e for e in inc["timeline"] if e["kind"] == "report"]
check(rep and rep[0]["operator"] == "张伟", "node2: the report's timeline entry names 张伟: %s" % rep)
# a write by node2's own operator names demo, not 张伟: the name is per request
st, body = c2.post("/api/incidents/%s/note" % iid, {"text": "second call, same fire"})
check(st in (200, 201), "a note on node2 as demo: %s" % body)
st, inc = c2.get("/api/incidents/" + iid)
note = [e for e in inc["timeline"] if e["kind"] == "note"]
check(note and note[-1]["operator"] == "demo", "node2's note names demo: %s" % note)
# two operators writing at once on node1's thread pool: each op names
# the operator whose request wrote it, never the other one
import threading
c1b = Console(os.environ["CONSOLE1"])
check(c1b.login("王芳", "dispatch-pass-1")[0] == 200, "王芳 logs in on node1 too")
errors = []
def burst(c, who):
    for i in range(25):
        st, body = c.post("/api/incidents/%s/note" % iid, {"text": "%s %d" % (who, i)})
        if st not in (200, 201):
            errors.append((who, st, body))
ths = [threading.Thread(target=burst, args=(c, w)) for c, w in ((c1, "zw"), (c1b, "wf"))]
for th in ths: th.start()
for th in ths: th.join()
check(not errors, "50 concurrent notes written: %s" % errors[:2])
st, inc = c1.get("/api/incidents/" + iid)
mine = [e for e in inc["timeline"] if e["kind"] == "note" and e["text"][:3] in ("zw ", "wf ")]
wrong = [e for e in mine if e["operator"] != {"zw": "张伟", "wf": "王芳"}[e["text"][:2]]]
check(len(mine) == 50 and not wrong, "each concurrent note names its own operator: %d, wrong %s" % (len(mine), wrong[:2]))
open(os.environ["T"] + "/ids", "w").write("%s %s\n" % (iid, tid))
PY
read -r IID TID <"$T/ids"

# the CLI on node2 shows it too, in its table and its JSON
fm 2 ticket show "$TID" >"$T/show.txt" || fail "ticket show on node2"
grep -q "cancel" "$T/show.txt" && grep -q "(operator 张伟)" "$T/show.txt" ||
    { cat "$T/show.txt"; fail "node2's ticket show has no BY (operator 张伟)"; }
fm 2 ticket show "$TID" --json >"$T/show.json" || fail "ticket show --json"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
ops = {e["step"]: e["operator"] for e in d["history"]}
assert ops == {"dispatch": "张伟", "cancel": "张伟"}, ops
' "$T/show.json" || fail "ticket show --json operators: $(cat "$T/show.json")"
fm 2 incident show "$IID" >"$T/inc.txt" || fail "incident show"
grep -q "(operator 张伟)" "$T/inc.txt" || { cat "$T/inc.txt"; fail "incident timeline BY"; }
fm 2 log >"$T/log.txt" || fail "log"
grep -q "(operator 张伟)" "$T/log.txt" || { cat "$T/log.txt"; fail "log names no operator"; }
# a CLI write names the Unix user who ran it
fm 1 incident note "$IID" "from the CLI" >/dev/null || fail "CLI note"
fm 1 incident show "$IID" --json >"$T/inc.json" || fail "incident show --json"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
n = [e for e in d["timeline"] if e["kind"] == "note" and e["text"] == "from the CLI"]
assert n and n[0]["operator"] == sys.argv[2], n
' "$T/inc.json" "$(id -un)" || fail "a CLI note does not name the Unix user $(id -un): $(cat "$T/inc.json")"
# the CLI names one with --operator; a bad name is a usage error
fm 1 --operator 李娜 incident note "$IID" "by the CLI, named" >/dev/null || fail "CLI note --operator"
fm 1 incident show "$IID" --json >"$T/inc.json" || fail "incident show --json"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
n = [e for e in d["timeline"] if e["kind"] == "note" and e["text"] == "by the CLI, named"]
assert n and n[0]["operator"] == "李娜", n
' "$T/inc.json" || fail "--operator not recorded: $(cat "$T/inc.json")"
fm 1 --operator "two words" status >/dev/null 2>&1; rc=$?
[ "$rc" -eq 2 ] || fail "a bad --operator name: exit $rc, not 2"

# ---- the old path: op_format 1 writes no operator ----
stop_node 1
sed -i 's/^  op_format: 7$/  op_format: 1/' "$(conf 1)"
grep -q '^  op_format: 1$' "$(conf 1)" || fail "test setup: op_format line"
fm 1 --operator 李娜 incident note "$IID" "format one CLI" >/dev/null 2>"$T/warn.txt" ||
    fail "CLI note at op_format 1"
grep -q "is not recorded" "$T/warn.txt" || fail "no warning for --operator at op_format 1"
start_node 1
wait_for 30 "node1 console up again" sh -c "grep -c 'console: serving' '$T/daemon1.log' | grep -q 2"
export IID
PYTHONPATH="$(dirname "$0")" python3 - >"$T/py2.out" <<'PY' || { cat "$T/py2.out"; fail "op_format 1 checks (above)"; }
import os, sys
from console_client import Console
c1 = Console(os.environ["CONSOLE1"])
assert c1.login("张伟", "dispatch-pass-1")[0] == 200
st, body = c1.post("/api/incidents/%s/note" % os.environ["IID"], {"text": "format one"})
assert st in (200, 201), body
st, inc = c1.get("/api/incidents/" + os.environ["IID"])
n = [e for e in inc["timeline"] if e["kind"] == "note" and e["text"] == "format one"]
assert n and n[0]["operator"] is None, n
old = [e for e in inc["timeline"] if e["kind"] == "report"]
assert old[0]["operator"] == "张伟", old  # format-2 ops still read
print("ok: op_format 1 names nobody; format-2 ops still show their operator")
PY
FAILED=0
echo "PASS"
