"""lib_console.py — shared helpers of the browser tests (tests/browser/test_*.py).

Real daemons and a real browser: a `fieldmesh testbed`, one `fieldmeshd`
per node with its console on a loopback port, operator accounts made with
`fieldmesh operator add`, and Debian's headless Chromium driven through
chromedriver by python3-selenium. Without Chromium, chromedriver or
selenium the test exits 77 (ctest SKIP_RETURN_CODE): nothing else skips.

Every wait polls with a deadline (the machine may be loaded); screenshots
go to $FM_SHOTS (tests/tests.cmake: <build>/browser-shots).
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import urllib.error
import http.cookiejar

SKIP = 77
CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'
CHROMEDRIVER = shutil.which('chromedriver') or '/usr/bin/chromedriver'


def skip_without_browser():
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        print('SKIP: chromium and chromium-driver are not installed')
        sys.exit(SKIP)
    try:
        import selenium  # noqa: F401
    except ImportError:
        # Debian's python3-selenium lives in the system Python; a python3
        # earlier on PATH (pyenv, a venv) does not see it.
        if os.path.realpath(sys.executable) != os.path.realpath('/usr/bin/python3') and \
                os.path.exists('/usr/bin/python3'):
            os.execv('/usr/bin/python3', ['/usr/bin/python3'] + sys.argv)
        print('SKIP: python3-selenium is not installed')
        sys.exit(SKIP)
    for var in ('FIELDMESH', 'FIELDMESHD'):
        if not os.access(os.environ.get(var, ''), os.X_OK):
            print('SKIP: %s must name the built binary' % var)
            sys.exit(SKIP)


def log(msg):
    print('# %s %s' % (time.strftime('%H:%M:%S'), msg), flush=True)


class Fail(Exception):
    pass


def wait_for(what, fn, timeout=60, every=0.25):
    """Polls fn() until it returns a true value (returned) or raises Fail."""
    deadline = time.time() + timeout
    last_exc = None
    while time.time() < deadline:
        try:
            v = fn()
            if v:
                return v
        except Exception as e:  # a stale element, a daemon not up yet
            last_exc = e
        time.sleep(every)
    raise Fail('timed out after %d s waiting for %s%s' % (
        timeout, what, (' (last error: %s)' % last_exc) if last_exc else ''))


def port_free(port):
    with socket.socket() as s:
        return s.connect_ex(('127.0.0.1', port)) != 0


class Mesh:
    """A testbed of real nodes with consoles. Node i (1-based) syncs on
    base+i-1 and serves its console on base+50+i-1."""

    def __init__(self, roles, topology='mesh', directory=None):
        self.fm = os.environ['FIELDMESH']
        self.fmd = os.environ['FIELDMESHD']
        self.src = os.environ.get('FM_SRC', os.path.join(os.path.dirname(__file__), '..', '..'))
        self.tmp = tempfile.mkdtemp(prefix='fm-browser.')
        self.n = len(roles)
        self.roles = roles
        self.procs = {}
        self.ports = {}   # console ports moved after a failed bind
        self.base = self._pick_base()
        self.directory = directory or os.path.join(self.src, 'configs', 'directory.yaml')
        self.failed = True
        self.run_fm(None, 'testbed', self.tb, '--nodes', str(self.n), '--topology', topology,
                    '--base-port', str(self.base), '--roles', ','.join(roles),
                    '--console-port', str(self.base + 50))
        for i in range(1, self.n + 1):
            self._web_root(i)

    tb = property(lambda self: os.path.join(self.tmp, 'tb'))

    def _pick_base(self):
        base = int(os.environ.get('FM_PORT_BASE', str(20000 + os.getpid() % 20000)))
        for _ in range(50):
            ports = [base + i for i in range(self.n)] + [base + 50 + i for i in range(self.n)]
            if all(port_free(p) for p in ports):
                return base
            base = (base + 137) % 40000 + 20000
        raise Fail('no free port range')

    def conf(self, i):
        return os.path.join(self.tb, 'node%d' % i, 'node.yaml')

    def console_port(self, i):
        return self.ports.get(i, self.base + 50 + i - 1)

    def url(self, i, path='/'):
        return 'http://127.0.0.1:%d%s' % (self.console_port(i), path)

    def _web_root(self, i):
        """Serve the pages of this source tree (not an installed copy)."""
        web = os.path.abspath(os.path.join(self.src, 'node', 'console', 'web'))
        with open(self.conf(i), encoding='utf-8') as f:
            text = f.read()
        if '\nconsole:\n' not in text:
            raise Fail('testbed wrote no console section in %s' % self.conf(i))
        text = text.replace('\nconsole:\n', '\nconsole:\n  web_root: "%s"\n' % web, 1)
        with open(self.conf(i), 'w', encoding='utf-8') as f:
            f.write(text)

    def run_fm(self, i, *args, stdin=None, check=True):
        cmd = [self.fm] + (['-c', self.conf(i)] if i else []) + list(args)
        p = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=300)
        if check and p.returncode != 0:
            raise Fail('%s exited %d: %s' % (' '.join(cmd), p.returncode, p.stderr.strip()))
        return p.stdout

    def fm_json(self, i, *args):
        return json.loads(self.run_fm(i, *args, '--json'))

    def node_key(self, i):
        with open(os.path.join(self.tb, 'node%d' % i, 'data', 'node.key.pub')) as f:
            return f.read().strip()

    def enroll_unit(self, i, unit):
        """Re-enrols node i (a station or vehicle) with a certificate naming `unit`."""
        cert = os.path.join(self.tmp, 'unit%d.cert' % i)
        self.run_fm(None, 'org', 'enroll', '--org', os.path.join(self.tb, 'org'), '--key',
                    self.node_key(i), '--name', 'node%d' % i, '--role', self.roles[i - 1],
                    '--unit', unit, '--out', cert)
        self.run_fm(i, 'trust', 'renew', cert)

    def publish_directory(self):
        self.run_fm(1, 'directory', 'publish', self.directory)

    def add_operator(self, i, name, role, password):
        pw = os.path.join(self.tmp, 'pw-%d-%s' % (i, name))
        with open(pw, 'w') as f:
            f.write(password + '\n')
        os.chmod(pw, 0o600)
        self.run_fm(i, 'operator', 'add', name, '--role', role, '--password-file', pw)

    def start(self, i, tries=3):
        """Starts node i's daemon and waits for its console. Our ports lie in
        Linux's ephemeral range, so another program's outgoing connection can
        hold one for a moment: the daemon then runs without its console
        (and says so); we stop it and move the console elsewhere."""
        log_path = os.path.join(self.tmp, 'daemon%d.log' % i)
        for attempt in range(tries):
            mark = os.path.getsize(log_path) if os.path.exists(log_path) else 0
            logf = open(log_path, 'ab')
            self.procs[i] = subprocess.Popen([self.fmd, '-c', self.conf(i), '--log-level', 'info'],
                                             stdout=logf, stderr=logf)
            if wait_for('node%d console on port %d' % (i, self.console_port(i)),
                        lambda: self._answers(i, log_path, mark), timeout=90) == 'ok':
                return
            log('node%d: console port %d was taken; moving it' % (i, self.console_port(i)))
            self.stop(i)
            self._move_console(i)
        raise Fail('node%d never served its console' % i)

    def _move_console(self, i):
        with socket.socket() as s:
            s.bind(('127.0.0.1', 0))
            port = s.getsockname()[1]
        with open(self.conf(i), encoding='utf-8') as f:
            text = f.read()
        text = text.replace('127.0.0.1:%d"' % self.console_port(i), '127.0.0.1:%d"' % port, 1)
        with open(self.conf(i), 'w', encoding='utf-8') as f:
            f.write(text)
        self.ports[i] = port

    def _answers(self, i, log_path, mark):
        if self.procs[i].poll() is not None:
            raise Fail('fieldmeshd node%d exited %s' % (i, self.procs[i].returncode))
        with open(log_path, 'rb') as f:
            f.seek(mark)
            if b'the console is not served' in f.read():
                return 'moved'
        try:
            urllib.request.urlopen(self.url(i, '/api/session'), timeout=3)
        except urllib.error.HTTPError as e:
            return 'ok' if e.code == 401 else False
        except OSError:
            return False
        return 'ok'

    def stop(self, i):
        p = self.procs.pop(i, None)
        if p is None:
            return
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()

    def close(self):
        for i in list(self.procs):
            self.stop(i)
        if self.failed:
            for i in range(1, self.n + 1):
                path = os.path.join(self.tmp, 'daemon%d.log' % i)
                if os.path.exists(path):
                    with open(path, errors='replace') as f:
                        lines = f.readlines()[-30:]
                    print('---- daemon%d.log (last 30 lines)' % i)
                    print(''.join(lines))
        shutil.rmtree(self.tmp, ignore_errors=True)


class Api:
    """A logged-in HTTP client of one console (for setting up and checking
    what the browser did, not for the behaviour under test)."""

    def __init__(self, base, name, password):
        self.base = base.rstrip('/')
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.csrf = self.call('POST', '/api/login', {'name': name, 'password': password})['csrf']

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header('Content-Type', 'application/json')
        if getattr(self, 'csrf', None):
            req.add_header('X-CSRF-Token', self.csrf)
        try:
            with self.opener.open(req, timeout=30) as r:
                text = r.read().decode()
        except urllib.error.HTTPError as e:
            raise Fail('%s %s → %d %s' % (method, path, e.code, e.read().decode(errors='replace')))
        return json.loads(text) if text else None


def browser(width=1366, height=900):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu',
              '--window-size=%d,%d' % (width, height), '--lang=en-US',
              '--autoplay-policy=no-user-gesture-required'):
        opts.add_argument(a)
    opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    drv.set_page_load_timeout(60)
    if width < 500:
        # headless Chromium keeps windows at least ~500 px wide: emulate the
        # phone's viewport instead, as the devtools' device mode does.
        drv.execute_cdp_cmd('Emulation.setDeviceMetricsOverride', {
            'width': width, 'height': height, 'deviceScaleFactor': 1, 'mobile': True})
    return drv


def js_errors(drv):
    """Severe console messages (uncaught exceptions, failed module loads)."""
    try:
        logs = drv.get_log('browser')
    except Exception:
        return []
    return [l['message'] for l in logs if l.get('level') == 'SEVERE' and '/api/' not in l['message']]


def check_js(drivers):
    """Fails on any uncaught exception or failed module load in the pages
    (answers like a 404 from the API are the page's business, not errors)."""
    bad = []
    for d in drivers:
        bad += [m for m in js_errors(d) if 'Failed to load resource' not in m]
    if bad:
        raise Fail('JavaScript errors in the pages: %s' % bad)


def shot(drv, name):
    d = os.environ.get('FM_SHOTS') or os.path.join(tempfile.gettempdir(), 'fm-browser-shots')
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, name + '.png')
    drv.save_screenshot(path)
    log('screenshot ' + path)
    return path


def login(drv, base, name, password, lang=None):
    from selenium.webdriver.common.by import By
    base = base.rstrip('/')
    drv.get(base + '/')
    if lang:
        drv.execute_script("localStorage.setItem('fm_lang', arguments[0]);", lang)
        drv.refresh()
    wait_for('the login form', lambda: drv.find_element(By.ID, 'login-name').is_displayed(), 30)
    drv.find_element(By.ID, 'login-name').send_keys(name)
    drv.find_element(By.ID, 'login-password').send_keys(password)
    drv.find_element(By.ID, 'login-submit').click()
    wait_for('the console after login', lambda: not drv.find_element(By.ID, 'login').is_displayed()
             and drv.find_element(By.ID, 'node-name').text != '', 30)


def click(drv, css, timeout=30):
    """Clicks the element css names, again if a live update redrew it
    between finding and clicking (a stale element)."""
    from selenium.webdriver.common.by import By
    wait_for('a click on ' + css, lambda: drv.find_element(By.CSS_SELECTOR, css).click() or True, timeout)


def type_into(drv, css, text, timeout=30):
    from selenium.webdriver.common.by import By
    def go():
        e = drv.find_element(By.CSS_SELECTOR, css)
        e.clear()
        e.send_keys(text)
        return drv.find_element(By.CSS_SELECTOR, css).get_attribute('value') == text
    wait_for('typing into ' + css, go, timeout)


def text_of(drv, css):
    from selenium.webdriver.common.by import By
    return ' '.join(e.text for e in drv.find_elements(By.CSS_SELECTOR, css))


def run(main):
    """Runs main() and exits 0, 1 on Fail (with the browser's JS errors)."""
    skip_without_browser()
    try:
        main()
    except Fail as e:
        print('FAIL: %s' % e)
        sys.exit(1)
    print('PASS')
    sys.exit(0)

