// The console's entry point: checks the session (or shows the login
// form), starts the status header and the live event stream, and shows one
// page per hash route (#/board, #/map, #/intake, #/unit, #/reports,
// #/network). Each page module exports mount(root, ctx) returning
// {update(events), unmount()}; the app calls update when ops arrive.
import { fill } from './dom.js';
import { t, lang, setLang, onLangChange } from './i18n.js';
import { get, post, setCsrf, onUnauthorized, ApiError } from './api.js';
import * as header from './header.js';
import * as events from './events.js';
import * as alerts from './alert.js';
import * as ref from './refdata.js';
import * as board from './board.js';
import * as intake from './intake.js';
import * as unitTerm from './unit.js';
import * as map from './map.js';
import * as reports from './reports.js';
import * as network from './network.js';
import { checkOwnTickets } from './watch.js';

const routes = { board, map, intake, unit: unitTerm, reports, network };
let session = null;
let page = null;
let pageName = null;
let watchTimer = null;

// What the operator's role and the node's role allow; the server checks
// again (403), this only hides buttons that would be refused.
function permissions(s) {
  const op = (s.operator && s.operator.role) || 'viewer';
  const nodeRole = (s.node && s.node.role) || '';
  const dispatcherNode = ['centre', 'county', 'admin'].includes(nodeRole);
  return {
    report: ['calltaker', 'dispatcher', 'admin'].includes(op),
    dispatch: ['dispatcher', 'admin'].includes(op) && dispatcherNode,
    step: op !== 'viewer',
  };
}

function ctx() {
  return { session, can: permissions(session), nodeUnit: session.node && session.node.unit };
}

function defaultRoute() {
  const role = session && session.node && session.node.role;
  return role === 'station' || role === 'vehicle' ? 'unit' : 'board';
}

function route() {
  if (!session) return;
  let name = (location.hash || '').replace(/^#\/?/, '').split(/[/?]/)[0];
  if (!routes[name]) {
    name = defaultRoute();
    history.replaceState(null, '', '#/' + name);
  }
  if (page && page.unmount) page.unmount();
  pageName = name;
  document.querySelectorAll('nav a').forEach((a) =>
    a.classList.toggle('active', a.getAttribute('href') === '#/' + name));
  const root = document.getElementById('main');
  fill(root);
  root.dataset.page = name;
  page = routes[name].mount(root, ctx());
  checkOwnTickets(session, pageName);
}

function applyStaticText() {
  document.querySelectorAll('[data-i18n]').forEach((n) => { n.textContent = t(n.dataset.i18n); });
  document.getElementById('lang-btn').textContent = t('lang_switch');
  alerts.setBaseTitle(t('app_title') + (session && session.node ? ' – ' + session.node.name : ''));
}

async function onEvents(evs) {
  const reset = evs.some((e) => e.type === 'reset');
  const unitsChanged = reset || evs.some((e) => e.unit || /^(unit|directory)/.test(e.kind || ''));
  if (unitsChanged) await ref.loadUnits();
  if (reset || evs.some((e) => /^directory/.test(e.kind || ''))) await ref.loadDirectory();
  if (evs.some((e) => e.type === 'soft')) header.refresh();
  if (page && page.update) page.update(evs);
  checkOwnTickets(session, pageName);
}

async function loggedIn(s) {
  session = s;
  setCsrf(s.csrf);
  document.body.classList.remove('logged-out');
  document.getElementById('login').hidden = true;
  applyStaticText();
  header.setSession(s);
  header.start();
  events.start();
  await Promise.all([ref.loadCategories(), ref.loadUnits(), ref.loadDirectory()]);
  route();
  if (!watchTimer) watchTimer = setInterval(() => checkOwnTickets(session, pageName), 15000);
}

function showLogin(message) {
  session = null;
  events.stop();
  if (page && page.unmount) page.unmount();
  page = null;
  document.body.classList.add('logged-out');
  const box = document.getElementById('login');
  box.hidden = false;
  const msg = document.getElementById('login-msg');
  fill(msg, message || '');
  document.getElementById('login-name').focus();
}

async function submitLogin(ev) {
  ev.preventDefault();
  alerts.unlockAudio(); // this click is the gesture browsers want before sound
  const name = document.getElementById('login-name').value;
  const password = document.getElementById('login-password').value;
  const msg = document.getElementById('login-msg');
  fill(msg); // a refusal left from the last try must not pass for this one's
  try {
    await post('/api/login', { name, password });
    document.getElementById('login-password').value = '';
    await loggedIn(await get('/api/session'));
  } catch (e) {
    if (e.status === 401) fill(msg, t('login_wrong'));
    else if (e.status === 429) fill(msg, t('login_locked', { s: (e.body && e.body.retry_after_s) || '?' }));
    else fill(msg, t('error_prefix') + e.message);
  }
}

async function logout() {
  try { await post('/api/logout'); } catch (e) { /* the session may be gone already */ }
  showLogin();
}

function showLive(live) {
  const dot = document.getElementById('live');
  dot.className = live ? 'live on' : 'live off';
  dot.textContent = live ? t('live_on') : t('live_off');
}

function wire() {
  document.getElementById('login-form').addEventListener('submit', submitLogin);
  document.getElementById('logout-btn').addEventListener('click', logout);
  document.getElementById('lang-btn').addEventListener('click', () => setLang(lang() === 'zh' ? 'en' : 'zh'));
  document.addEventListener('click', alerts.unlockAudio, { once: true });
  window.addEventListener('hashchange', route);
  onUnauthorized(() => { if (session) showLogin(t('login_title')); });
  onLangChange(() => { applyStaticText(); header.setSession(session); if (session) route(); });
  events.onChange(onEvents);
  events.onLiveState(showLive);
  onLangChange(() => showLive(events.isLive()));
}

async function boot() {
  wire();
  applyStaticText();
  try {
    await loggedIn(await get('/api/session'));
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) showLogin();
    else showLogin(t('error_prefix') + e.message);
  }
}

// For the browser tests and for an admin poking at a console: what the
// app is showing, read from the live objects (not a copy made for tests).
window.fmConsole = Object.assign(window.fmConsole || {}, {
  alerts: alerts.stats, page: () => pageName, session: () => session,
  unitId: (name) => { const u = ref.unitByRef(name); return u ? u.id : null; },
});

boot();
