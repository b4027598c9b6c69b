#!/usr/bin/env bash
# The OpenAPI document stays true (docs/console-api.md): every route it
# documents is called against a real daemon, with ids and bodies made for
# it, and must answer with its documented success status (or, where the
# call cannot succeed by design, a documented error with an error body,
# never "no such API route", 405 or 500).
. "$(dirname "$0")/lib_gossip.sh"

command -v python3 >/dev/null || { echo "SKIP: python3 needed"; exit 77; }

testbed 1 line
start_node 1
wait_for 30 "node1 console up" grep -q "console: serving" "$T/daemon1.log"
fm 1 directory publish "$FM_SRC/configs/directory.yaml" >/dev/null || fail "directory publish"
RES=$(fm 1 resource add sandbag --depot "Central depot" --qty 100) || fail "resource add"
export RES
export CONSOLE1=$(awk '/^url:/ {print $2}' "$T/tb/node1/console.txt")
export PW1=$(awk '/^password:/ {print $2}' "$T/tb/node1/console.txt")

PYTHONPATH="$(dirname "$0")" python3 - <<'PY' || fail "OpenAPI checks failed (above)"
import os, sys
from console_client import Console

def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)

c = Console(os.environ["CONSOLE1"])
st, doc, _ = c.call("GET", "/api/openapi.json")
check(st == 200 and doc["openapi"] == "3.1.0", "GET /api/openapi.json without a session")
st, _, _ = c.login("demo", os.environ["PW1"])
check(st == 200, "login")

st, units = c.get("/api/units")
avail = [u["id"] for u in units["units"]]
def report(text):
    st, b = c.post("/api/incidents", {"category": "building_fire", "lat": 31.2, "lon": 121.4,
                                      "text": text})
    check(st == 201, "report: %s" % b)
    return b["id"]
def dispatch(iid):
    st, b = c.post("/api/dispatch", {"incident": iid, "units": [avail.pop()]})
    check(st == 201, "dispatch: %s" % b)
    return b["tickets"][0]
iid, closing, staged = report("主事件"), report("to close"), report("to resolve")
t_steps, t_cancel, t_reassign = dispatch(iid), dispatch(iid), dispatch(iid)
st, b = c.post("/api/requests", {"incident": iid, "kind": "sandbag", "qty": 5})
check(st == 201, "a material request: %s" % b)
rid = b["id"]
st, b = c.post("/api/bulletins", {"to": "all", "text": "全体注意"})
check(st == 201, "a bulletin: %s" % b)
bid = b["id"]

ids = {"/api/incidents/{id}/close": closing, "/api/incidents/{id}/status": staged,
       "/api/tickets/{id}/cancel": t_cancel, "/api/tickets/{id}/reassign": t_reassign,
       "/api/requests/": rid, "/api/bulletins/": bid, "/api/conflicts/": "double:none-1",
       "/api/incidents/": iid, "/api/tickets/": t_steps}
def id_for(path):
    if path in ids:
        return ids[path]
    return next(v for k, v in ids.items() if path.startswith(k))

samples = {"category": "medical", "lat": 31.25, "lon": 121.45, "priority": 2, "text": "文本",
           "address": "人民路2号", "caller": "110", "caller_name": "王五", "incident": iid, "units": [avail.pop()],
           "unit": avail.pop(), "kind": "sandbag", "qty": 1, "resource": os.environ["RES"],
           "to": "all", "note": "ok", "result": "fire out", "reason": "test", "score": 4,
           "stage": "resolved", "comment": "good", "name": "demo", "keep": "cleared",
           "password": os.environ["PW1"]}
queries = {"/api/suggest": "?incident=" + iid, "/api/report": "?by=unit",
           "/api/incidents": "?state=open&limit=5", "/api/tickets": "?active=1"}
must_fail = {("POST", "/api/conflicts/{id}/resolve"): 404}  # no conflict exists here

called = 0
for path, item in doc["paths"].items():
    for method, op in item.items():
        method = method.upper()
        if path in ("/api/logout", "/api/events"):
            continue  # below: logout ends the session; events is a stream
        url = path.replace("{id}", id_for(path) if "{id}" in path else "") + \
            (queries.get(path, "") if method == "GET" else "")
        body = None
        if method == "POST":
            schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            body = {k: samples[k] for k in schema.get("properties", {})}
            if path == "/api/incidents/{id}/edit":
                body = {"address": "人民路3号"}
        st, b, _ = c.call(method, url, body)
        if path == "/api/login" and st == 200:
            c.csrf = b["csrf"]  # a new session
        want = must_fail.get((method, path), op and int(next(iter(op["responses"]))))
        documented = [int(x) for x in op["responses"]]
        ok = st == want and st in documented
        if st >= 400:
            ok = ok and isinstance(b, dict) and "error" in b and "code" in b and \
                 "no such API route" not in b["error"]
        print(("ok  " if ok else "BAD ") + "%s %s -> %d %s" % (method, url, st,
              b.get("error", "") if isinstance(b, dict) else ""))
        check(ok, "%s %s: status %d, expected %d" % (method, path, st, want))
        called += 1

import http.client, urllib.parse
u = urllib.parse.urlparse(os.environ["CONSOLE1"])
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
conn.request("GET", "/api/events", headers={"Cookie": c.cookie})
r = conn.getresponse()
check(r.status == 200 and r.getheader("Content-Type").startswith("text/event-stream"), "events")
check(r.readline().startswith(b":"), "the stream opens with a comment")
conn.close()
st, _, _ = c.call("POST", "/api/logout")
check(st == 204, "logout")
called += 2
total = sum(len(v) for v in doc["paths"].values())
check(called == total, "called %d of %d documented routes" % (called, total))
print("called all %d documented routes" % called)
PY
stop_node 1 # a clean exit (and, under ASan, no leak) with the console's threads and streams
FAILED=0
echo "PASS"
