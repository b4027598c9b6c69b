// Live updates: one EventSource on /api/events for the whole app. Pages
// subscribe with onChange(fn); bursts of ops (a sync catching up) are
// coalesced into one call per 300 ms so a page reloads its data once, not
// once per op. `reset` (the server could not resume after a reconnect)
// and a reconnect itself make every page reload everything.
const subscribers = new Set();
const stateListeners = new Set();
let source = null;
let pending = null;
let pendingEvents = [];
let connected = false;
let wanted = false;          // between start() and stop()

export function onChange(fn) { subscribers.add(fn); return () => subscribers.delete(fn); }
export function onLiveState(fn) { stateListeners.add(fn); fn(connected); }
export function isLive() { return connected; }

function setConnected(v) {
  if (v === connected) return;
  connected = v;
  stateListeners.forEach((fn) => fn(v));
}

function flush() {
  const evs = pendingEvents;
  pendingEvents = [];
  pending = null;
  subscribers.forEach((fn) => { try { fn(evs); } catch (e) { console.error(e); } });
}

function queue(ev) {
  pendingEvents.push(ev);
  if (!pending) pending = setTimeout(flush, 300);
}

function parse(e, type) {
  let data = {};
  try { data = JSON.parse(e.data); } catch (err) { /* keep-alive or junk */ }
  return Object.assign({ type }, data);
}

export function start() {
  wanted = true;
  if (source) return;
  source = new EventSource('/api/events', { withCredentials: true });
  let opened = false;
  source.addEventListener('open', () => {
    setConnected(true);
    if (opened) queue({ type: 'reset' }); // reconnected: catch up on anything missed
    opened = true;
  });
  source.addEventListener('error', () => {
    setConnected(false);
    // The browser retries by itself after a dropped stream, but gives up
    // for good on an HTTP error (a restarted daemon, a proxy's 502): then
    // start a new stream a little later. A lost session shows the login
    // form through the other calls, which stops this.
    if (source && source.readyState === EventSource.CLOSED) {
      source = null;
      setTimeout(() => { if (!source && wanted) start(); }, 5000);
    }
  });
  source.addEventListener('op', (e) => queue(parse(e, 'op')));
  source.addEventListener('soft', (e) => queue(parse(e, 'soft')));
  source.addEventListener('reset', () => queue({ type: 'reset' }));
}

export function stop() {
  wanted = false;
  if (source) source.close();
  source = null;
  setConnected(false);
}
