// The dispatch board: open incidents, most urgent first (priority, then
// the longest waiting), each with its category, address, stage, elapsed
// time and its tickets (unit, state, time in that state). A ticket still
// unacknowledged past its target is red and raises the alert (tone, tab
// title count, banner); a new incident raises one too. Data reloads on
// each live event; the clocks tick every second from the data in hand.
import { el, fill, ageOf, select, errorLine, codeOf } from './dom.js';
import { t, label, fmtAge } from './i18n.js';
import { post } from './api.js';
import * as alerts from './alert.js';
import { categoryLabel, unitName, incStage, incText, getCategories, ownReports, openIncidents, unitById } from './refdata.js';
import { dispatchPanel } from './dispatch.js';
import { timelinePanel } from './timeline.js';
import { lateInfo, loadAlerts } from './late.js';

const STAGES = ['new', 'dispatched', 'enroute', 'onscene', 'resolved'];
const filters = { category: '', stage: '' };
let known = null;            // incident ids seen so far (null before the first load)

export function mount(root, ctx) {
  const state = { incidents: [], late: new Map(), prevLate: 0, panels: new Map(), error: null, ctx };
  const table = el('div', { id: 'board', class: 'board' });
  state.noticeBox = el('div', { id: 'board-notices' });
  fill(root, el('div', { class: 'page-head' }, el('h1', null, t('board_title')), filterBar(state, table)), state.noticeBox, table);
  const reload = async () => {
    try {
      const [list, late] = await Promise.all([openIncidents(), loadAlerts()]);
      state.incidents = list;
      state.late = late;
      state.error = null;
      renderNotices(state);
      noticeNew(state.incidents);
    } catch (e) { state.error = e; }
    render(table, state);
  };
  reload();
  const tick = setInterval(() => tickClocks(table, state), 1000);
  const poll = setInterval(reload, 10000); // lateness grows with time, not only with ops
  return {
    update: (evs) => { if (evs.some((e) => e.type !== 'soft')) reload(); },
    unmount: () => { clearInterval(tick); clearInterval(poll); },
  };
}

function filterBar(state, table) {
  const cats = [['', t('filter_all')]].concat(getCategories().map((c) => [c.id, categoryLabel(c.id)]));
  const stages = [['', t('filter_all')]].concat(STAGES.map((s) => [s, label('stage_', s)]));
  const onChange = (key) => (e) => { filters[key] = e.target.value; render(table, state); };
  return el('div', { class: 'filters' },
    el('label', null, t('filter_category') + ' ', select({ id: 'filter-category', onchange: onChange('category') }, cats, filters.category)),
    el('label', null, t('filter_stage') + ' ', select({ id: 'filter-stage', onchange: onChange('stage') }, stages, filters.stage)));
}

function noticeNew(incidents) {
  const ids = new Set(incidents.map((i) => i.id));
  if (known) {
    const fresh = [...ids].filter((id) => !known.has(id) && !ownReports.has(id));
    if (fresh.length) alerts.raise('new', 'alert_new', { n: fresh.length }, { again: true, dismiss: true });
  }
  known = known ? new Set([...known, ...ids]) : ids;
}

function sortIncidents(list) {
  return list.slice().sort((a, b) =>
    (a.priority - b.priority) || String(a.reported_at).localeCompare(String(b.reported_at)));
}

function visible(inc) {
  return (!filters.category || inc.category === filters.category) &&
    (!filters.stage || incStage(inc) === filters.stage);
}

// Every second: the clocks move in place (a full redraw would drop a
// dispatcher's text selection or focus); a redraw only when a ticket's
// lateness changed since the last one.
function tickClocks(table, state) {
  if (lateSignature(state) !== state.lateSig) { render(table, state); return; }
  table.querySelectorAll('[data-since]').forEach((n) => {
    const age = fmtAge(ageOf(n.dataset.since));
    n.textContent = n.dataset.fmt ? t(n.dataset.fmt, { age }) : age;
  });
}

function lateSignature(state) {
  const parts = [];
  for (const inc of state.incidents) {
    for (const tk of inc.tickets || []) parts.push(tk.id + ':' + lateInfo(tk, state.late));
  }
  return parts.join(',');
}

function render(table, state) {
  state.lateSig = lateSignature(state);
  if (state.error) { fill(table, errorLine(state.error)); return; }
  const list = sortIncidents(state.incidents).filter(visible);
  let lateCount = 0;
  const rows = [];
  for (const inc of list) {
    const tickets = (inc.tickets || []).map((tk) => Object.assign({
      lateLevel: lateInfo(tk, state.late), lateWhy: state.late.get(tk.id) || 'ack',
      doubleBooked: tk.active !== false && doubleBooked(state).has(tk.unit),
    }, tk));
    lateCount += tickets.filter((tk) => tk.lateLevel === 'red').length;
    rows.push(incidentRow(inc, tickets, state));
    if (state.panels.has(inc.id)) rows.push(el('tr', { class: 'panel-row' }, el('td', { colspan: 7 }, state.panels.get(inc.id))));
    if (state.panels.has('tl:' + inc.id)) rows.push(el('tr', { class: 'panel-row' }, el('td', { colspan: 7 }, state.panels.get('tl:' + inc.id))));
  }
  if (lateCount) alerts.raise('late', 'alert_late', { n: lateCount }, { again: lateCount > state.prevLate });
  else alerts.clear('late');
  state.prevLate = lateCount;
  if (!list.length) { fill(table, el('p', { class: 'empty' }, t('no_incidents'))); return; }
  fill(table, el('table', { class: 'incidents' }, el('thead', null, el('tr', null,
    ['col_priority', 'col_incident', 'col_address', 'col_stage', 'col_elapsed', 'col_tickets', ''].map((k) =>
      el('th', null, k ? t(k) : '')))), el('tbody', null, rows)));
}

function incidentRow(inc, tickets, state) {
  const worst = tickets.some((tk) => tk.lateLevel === 'red') ? ' late-red' : tickets.some((tk) => tk.lateLevel === 'amber') ? ' late-amber' : '';
  const text = incText(inc);
  return el('tr', { class: 'incident p' + inc.priority + worst, dataset: { id: inc.id } },
    el('td', { class: 'pri' }, el('span', { class: 'pri-badge p' + inc.priority }, t('priority_n', { n: inc.priority }))),
    el('td', { class: 'what' }, el('div', { class: 'cat' }, categoryLabel(inc.category)),
      text ? el('div', { class: 'inc-text' }, text) : null, el('div', { class: 'inc-id muted', title: inc.id }, codeOf(inc))),
    el('td', { class: 'addr' }, inc.address || ''),
    el('td', { class: 'stage' }, label('stage_', incStage(inc))),
    el('td', { class: 'elapsed', dataset: { since: inc.reported_at } }, fmtAge(ageOf(inc.reported_at))),
    el('td', { class: 'tickets' }, tickets.length ? tickets.map(ticketChip) : el('span', { class: 'muted' }, t('no_tickets'))),
    el('td', { class: 'actions' }, el('div', { class: 'action-box' }, dispatchButton(inc, state), closeButton(inc, tickets, state), timelineButton(inc, state))));
}

// The mark of the ticket's current state (the API names the ack mark
// `acked`).
function ticketSince(tk) {
  const step = tk[tk.state] || (tk.state === 'acknowledged' ? tk.acked : null);
  return (step && step.at) || tk.state_at || tk.updated_at || null;
}

function ticketChip(tk) {
  const sinceAt = ticketSince(tk);
  const since = ageOf(sinceAt);
  return el('div', { class: 'ticket st-' + tk.state + (tk.lateLevel ? ' late-' + tk.lateLevel : ''), dataset: { ticket: tk.id, state: tk.state } },
    el('b', null, tk.unit_name || unitName(tk.unit)), ' ', el('span', { class: 'tk-code muted', title: tk.id }, codeOf(tk)), ' · ', el('span', { class: 'tk-state' }, label('ticket_', tk.state)),
    since !== null ? [' · ', el('span', { class: 'muted', dataset: { since: sinceAt, fmt: 'in_state_for' } }, t('in_state_for', { age: fmtAge(since) }))] : null,
    tk.lateLevel === 'red' ? el('div', { class: 'late-msg' }, tk.lateWhy === 'scene' ? t('late_scene') : t('late_ack')) : null,
    tk.doubleBooked ? el('div', { class: 'double-msg' }, t('double_booked')) : null,
    tk.result ? el('div', { class: 'tk-result' }, tk.result) : null);
}

// After a dispatch the panel shows its confirmation briefly, then makes
// room: the new tickets are on the incident's row.
function closePanelSoon(id, state) {
  setTimeout(() => {
    state.panels.delete(id);
    const table = document.getElementById('board');
    if (table) render(table, state);
  }, 2000);
}

function dispatchButton(inc, state) {
  if (!state.ctx.can.dispatch) return null;
  const open = state.panels.has(inc.id);
  return el('button', { type: 'button', class: 'dispatch-btn', onclick: () => {
    if (state.panels.has(inc.id)) state.panels.delete(inc.id);
    else state.panels.set(inc.id, dispatchPanel(inc.id, () => closePanelSoon(inc.id, state)));
    render(document.getElementById('board'), state);
  } }, open ? t('btn_close_panel') : t('btn_dispatch'));
}

// Who did what on the incident, with the console operator an op names
// (every role may read it). The panel loads when opened.
function timelineButton(inc, state) {
  const key = 'tl:' + inc.id;
  return el('button', { type: 'button', class: 'timeline-btn', onclick: () => {
    if (state.panels.has(key)) state.panels.delete(key);
    else state.panels.set(key, timelinePanel(inc.id));
    render(document.getElementById('board'), state);
  } }, state.panels.has(key) ? t('btn_close_panel') : t('btn_timeline'));
}

// Escalations and conflicts as banners above the board; a conflict has a
// Resolve button for those who may (the note is asked for).
// Units the node reports as holding two active tickets (a partition let
// two dispatchers send the same unit).
function doubleBooked(state) {
  const others = state.late.others || [];
  return new Set(others.filter((a) => a.kind === 'conflict' && a.conflict_kind === 'unit_double_booked')
    .map((a) => a.subject));
}

function renderNotices(state) {
  const others = state.late.others || [];
  fill(state.noticeBox, others.map((a) => {
    const kind = String(a.kind || '');
    const where = a.incident ? ' (' + t('incident_label') + ' ' + (a.incident_code || a.incident) + (a.tier ? ', ' + t('notice_tier', { n: a.tier }) : '') + ')' : '';
    const unit = a.subject && unitById(a.subject);
    return el('div', { class: 'notice notice-' + kind, dataset: { kind } },
      el('b', null, label('notice_', kind) + ': '), unit ? unit.name + ' – ' : '', a.text || a.subject || '', where,
      kind === 'conflict' && state.ctx.can.dispatch ? resolveButton(a) : null);
  }));
}

function resolveButton(a) {
  const msg = el('span', { class: 'notice-msg' });
  const btn = el('button', { type: 'button', class: 'primary', onclick: async () => {
    const note = window.prompt(t('resolve_note'), '');
    if (note === null || !note.trim()) return;
    try {
      await post('/api/conflicts/' + encodeURIComponent(a.conflict || a.id) + '/resolve', { note: note.trim() });
      fill(msg, el('span', { class: 'ok' }, t('resolved')));
      btn.disabled = true;
    } catch (e) { fill(msg, errorLine(e)); }
  } }, t('btn_resolve'));
  return [' ', btn, msg];
}

// Close an incident once its work is done (every ticket cleared or called
// off); the result typed here goes into its timeline first.
function closeButton(inc, tickets, state) {
  if (!state.ctx.can.dispatch || !tickets.length) return null;
  if (tickets.some((tk) => ['dispatched', 'acknowledged', 'enroute', 'onscene'].includes(tk.state))) return null;
  return el('button', { type: 'button', class: 'close-btn', onclick: async (e) => {
    const result = window.prompt(t('close_result'), '');
    if (result === null) return;
    const btn = e.target;
    btn.disabled = true;
    try {
      await post('/api/incidents/' + encodeURIComponent(inc.id) + '/close', result.trim() ? { result: result.trim() } : {});
    } catch (err) {
      btn.disabled = false;
      window.alert(err.message);
    }
  } }, t('btn_close_incident'));
}
