"""console_client.py — a small client of the console API for the e2e tests
(tests/e2e/test_console_api.sh): sessions with the cookie and CSRF token,
JSON calls that return (status, body), and an SSE reader. Standard library
only (urllib, http.client)."""
import http.client
import json
import time
import urllib.error
import urllib.request


class Console:
    def __init__(self, base):
        self.base = base.rstrip("/")
        self.cookie = None
        self.cookie_name = None
        self.csrf = None

    def call(self, method, path, body=None, raw=None, csrf=True, headers=None):
        """(status, parsed JSON or None, headers) of one request."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if self.cookie:
            req.add_header("Cookie", self.cookie)
        if csrf and self.csrf and method != "GET":
            req.add_header("X-CSRF-Token", self.csrf)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                status, text, hdrs = r.status, r.read(), r.headers
        except urllib.error.HTTPError as e:
            status, text, hdrs = e.code, e.read(), e.headers
        sc = hdrs.get("Set-Cookie")
        if sc and sc.startswith("fm_session_"):  # fm_session_<port>=TOKEN
            val = sc.split(";", 1)[0]
            self.cookie_name = val.split("=", 1)[0]
            self.cookie = None if val.endswith("=") else val
        parsed = None
        if text:
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = text.decode(errors="replace")
        return status, parsed, hdrs

    def login(self, name, password):
        st, body, hdrs = self.call("POST", "/api/login", {"name": name, "password": password})
        if st == 200:
            self.csrf = body["csrf"]
        return st, body, hdrs

    def get(self, path):
        return self.call("GET", path)[:2]

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body if body is not None else {}, **kw)[:2]


class Events:
    """An open /api/events stream; next_event() parses one event at a time."""

    def __init__(self, host, port, cookie, last_id=None):
        self.conn = http.client.HTTPConnection(host, port, timeout=90)
        headers = {"Cookie": cookie, "Accept": "text/event-stream"}
        if last_id is not None:
            headers["Last-Event-ID"] = str(last_id)
        self.conn.request("GET", "/api/events", headers=headers)
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.ctype = self.resp.getheader("Content-Type", "")

    def next_event(self, deadline):
        """{'id', 'event', 'data'} of the next event (comments skipped), or
        None once time.time() passes deadline."""
        ev = {}
        while time.time() < deadline:
            line = self.resp.readline()
            if not line:
                return None
            line = line.decode().rstrip("\n")
            if line == "":
                if "event" in ev or "data" in ev:
                    if "data" in ev:
                        ev["data"] = json.loads(ev["data"])
                    return ev
                continue
            if line.startswith(":"):
                continue
            k, _, v = line.partition(": ")
            ev[k] = v
        return None

    def wait_for(self, pred, secs):
        """The first event satisfying pred within secs seconds, else None."""
        deadline = time.time() + secs
        while time.time() < deadline:
            ev = self.next_event(deadline)
            if ev is None:
                return None
            if pred(ev):
                return ev
        return None

    def close(self):
        self.conn.close()
