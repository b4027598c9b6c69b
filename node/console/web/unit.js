// The unit terminal: what a station or vehicle node opens. Only this
// unit's active tickets, each as a big card (category, address, what the
// caller said) with big buttons for the steps (acknowledge, en route, on
// scene, clear with its result), usable with gloves on a phone-size
// screen. A ticket not yet acknowledged sounds a loud alert every 2 s until
// someone acknowledges it. A dispatcher node may open it for any unit (to
// record steps radioed in, on the unit's behalf).
import { el, fill, ageOf, select, errorLine } from './dom.js';
import { t, label, fmtAge } from './i18n.js';
import { get, post } from './api.js';
import * as alerts from './alert.js';
import { getUnits, unitByRef, categoryLabel, incText } from './refdata.js';
import { centreAge, centreLevel } from './header.js';
import { bulletinBox, reload as reloadBulletins } from './bulletins.js';

const STEPS = [ // [api step, button label, the ticket states it follows]
  ['ack', 'btn_ack', ['dispatched']],
  ['enroute', 'btn_enroute', ['dispatched', 'acknowledged']],
  ['arrive', 'btn_arrive', ['dispatched', 'acknowledged', 'enroute']],
  ['clear', 'btn_clear', ['dispatched', 'acknowledged', 'enroute', 'onscene']],
];
const incidents = new Map(); // incident id → incident, fetched once per terminal

export function mount(root, ctx) {
  const st = { unit: null, tickets: [], msg: new Map(), error: null, ctx, results: new Map() };
  const own = unitByRef(ctx.nodeUnit);
  st.unit = own ? own.id : chosenUnit();
  const body = el('div', { id: 'terminal', class: 'terminal' });
  const news = bulletinBox();
  fill(root, el('div', { class: 'term-head' }, el('h1', null, t('unit_title')), own ? null : unitPicker(st, body, ctx.nodeUnit)),
    el('p', { id: 'term-centre', class: 'term-centre' }), body, news);
  const reload = async () => { await loadTickets(st); render(body, st); reloadBulletins(news); };
  reload();
  const tick = setInterval(() => { renderCentre(); }, 1000);
  const poll = setInterval(reload, 15000);
  renderCentre();
  return {
    update: (evs) => { if (evs.some((e) => e.type !== 'soft')) reload(); },
    unmount: () => { clearInterval(tick); clearInterval(poll); alerts.clear('ticket'); },
  };
}

function chosenUnit() {
  const m = /[?&]u=([^&]+)/.exec(location.hash);
  if (m) return decodeURIComponent(m[1]);
  try { return localStorage.getItem('fm_unit') || ''; } catch (e) { return ''; }
}

// A dispatcher picks any unit; a duty room whose certificate names a whole
// department ("dept:D", docs/workflow.md §4) picks among D's units.
function unitPicker(st, body, nodeUnit) {
  const dept = typeof nodeUnit === 'string' && nodeUnit.startsWith('dept:') ? nodeUnit.slice(5) : null;
  const units = getUnits().filter((u) => !dept || u.department === dept)
    .sort((a, b) => String(a.name).localeCompare(String(b.name)));
  const opts = [['', '—']].concat(units.map((u) => [u.id, u.name + ' · ' + (u.department || '')]));
  return el('label', { class: 'unit-pick-label' }, t('unit_choose') + ' ', select({ id: 'term-unit', onchange: async (e) => {
    st.unit = e.target.value;
    try { localStorage.setItem('fm_unit', st.unit); } catch (err) { /* private mode */ }
    await loadTickets(st);
    render(body, st);
  } }, opts, st.unit));
}

function renderCentre() {
  const p = document.getElementById('term-centre');
  if (!p) return;
  const age = centreAge();
  if (age === 'self' || age === undefined) { fill(p); return; }
  const level = centreLevel(age);
  p.className = 'term-centre ' + level;
  fill(p, age === null ? t('centre_cut_never') : level === 'cut' ? t('centre_cut', { age: fmtAge(age) }) : t('centre_heard', { age: fmtAge(age) }));
}

async function loadTickets(st) {
  if (!st.unit) { st.tickets = []; return; }
  try {
    const data = await get('/api/tickets?unit=' + encodeURIComponent(st.unit) + '&active=1');
    st.tickets = (data && data.tickets) || (Array.isArray(data) ? data : []);
    st.error = null;
    await Promise.all(st.tickets.map((tk) => loadIncident(tk.incident)));
  } catch (e) { st.error = e; }
}

async function loadIncident(id) {
  if (!id || incidents.has(id)) return;
  try {
    const inc = await get('/api/incidents/' + encodeURIComponent(id));
    incidents.set(id, (inc && inc.incident) || inc);
  } catch (e) { /* the card shows the id alone */ }
}

function render(body, st) {
  const waiting = st.tickets.filter((tk) => tk.state === 'dispatched');
  if (waiting.length) alerts.raise('ticket', 'unit_new_ticket', null, { loud: true });
  else alerts.clear('ticket');
  if (!st.unit) { fill(body, el('p', { class: 'muted big-text' }, t('unit_none_here'))); return; }
  if (st.error) { fill(body, errorLine(st.error)); return; }
  if (!st.tickets.length) { fill(body, el('p', { class: 'standby big-text' }, t('unit_no_tickets'))); return; }
  const typing = typingIn();
  fill(body, st.tickets.map((tk) => ticketCard(tk, st)));
  if (typing) refocus(body, typing);
}

// A crew typing a result must not lose the box when an update redraws
// the cards: remember which ticket's box had the focus, and give it back.
function typingIn() {
  const a = document.activeElement;
  if (!a || !a.classList.contains('tc-result')) return null;
  const card = a.closest('.ticket-card');
  return card ? card.dataset.ticket : null;
}

function refocus(body, ticket) {
  const box = [...body.querySelectorAll('.ticket-card')].find((c) => c.dataset.ticket === ticket);
  const ta = box && box.querySelector('.tc-result');
  if (!ta) return;
  ta.focus();
  ta.setSelectionRange(ta.value.length, ta.value.length);
}

function ticketCard(tk, st) {
  const inc = incidents.get(tk.incident) || { id: tk.incident };
  const since = ageOf(tk.dispatched && tk.dispatched.at);
  const fresh = tk.state === 'dispatched';
  return el('section', { class: 'ticket-card' + (fresh ? ' fresh' : ''), dataset: { ticket: tk.id, state: tk.state } },
    fresh ? el('div', { class: 'new-banner' }, t('unit_new_ticket')) : null,
    el('div', { class: 'tc-cat' }, inc.priority ? el('span', { class: 'pri-badge p' + inc.priority }, t('priority_n', { n: inc.priority })) : null,
      ' ', categoryLabel(inc.category)),
    el('div', { class: 'tc-addr' }, inc.address || ''),
    incText(inc) ? el('div', { class: 'tc-text' }, incText(inc)) : null,
    el('div', { class: 'tc-meta' }, el('span', { class: 'tc-state' }, label('ticket_', tk.state)),
      since !== null ? ' · ' + t('dispatched_at', { age: fmtAge(since) }) : '', ' · ', t('incident_label'), ' ', tk.incident_code || inc.code || tk.incident || ''),
    stepButtons(tk, st),
    el('div', { class: 'tc-msg', 'aria-live': 'polite' }, st.msg.get(tk.id) || null));
}

function stepButtons(tk, st) {
  const canStep = st.ctx.can.step;
  const result = el('textarea', { class: 'tc-result', rows: 2, placeholder: t('clear_result'), 'aria-label': t('clear_result') });
  if (st.results.has(tk.id)) result.value = st.results.get(tk.id);
  result.addEventListener('input', () => {
    st.results.set(tk.id, result.value);
    if (st.msg.has(tk.id)) { st.msg.delete(tk.id); fill(result.closest('.ticket-card').querySelector('.tc-msg')); }
  });
  const next = STEPS.find(([, , from]) => from.includes(tk.state));
  const buttons = STEPS.map(([step, key, from]) => el('button', {
    type: 'button', class: 'step-btn step-' + step + (next && next[0] === step ? ' next' : ''),
    disabled: !canStep || !from.includes(tk.state), dataset: { step },
    onclick: () => doStep(tk, step, result, st),
  }, t(key)));
  return el('div', { class: 'steps' }, buttons, tk.state === 'onscene' && canStep ? result : null,
    canStep ? null : el('p', { class: 'muted tc-result' }, t('forbidden_write')));
}

async function doStep(tk, step, result, st) {
  const body = {};
  if (step === 'clear') {
    if (!result.value.trim()) { st.msg.set(tk.id, errorLine(t('clear_need_result'))); rerender(st); return; }
    body.result = result.value.trim();
  }
  try {
    const res = await post('/api/tickets/' + encodeURIComponent(tk.id) + '/' + step, body);
    const state = (res && (res.state || (res.ticket && res.ticket.state))) || step;
    st.msg.set(tk.id, el('p', { class: 'ok' }, t('step_done', { state: label('ticket_', state) })));
    st.results.delete(tk.id);
    await loadTickets(st);
  } catch (e) {
    st.msg.set(tk.id, errorLine(e));
  }
  rerender(st);
}

function rerender(st) {
  const body = document.getElementById('terminal');
  if (body) render(body, st);
}
