// The dispatch panel shared by the board and the intake page: the units
// the rules propose for an incident (/api/suggest), ticked by default,
// any other available unit to add, and one button that dispatches them
// (/api/dispatch). A refusal (a unit that became busy: 409) is shown in
// the server's words and the proposal is fetched again.
import { el, fill, errorLine } from './dom.js';
import { t, fmtAge } from './i18n.js';
import { get, post } from './api.js';
import { getUnits } from './refdata.js';

// readOnly (an operator who may not dispatch): the proposal alone.
export function dispatchPanel(incidentId, onDone, readOnly) {
  const box = el('div', { class: 'dispatch-panel', dataset: { incident: incidentId } }, t('loading'));
  load(box, incidentId, onDone, readOnly);
  return box;
}

async function load(box, incidentId, onDone, readOnly) {
  let sug = null;
  let sugError = null;
  try {
    sug = await get('/api/suggest?incident=' + encodeURIComponent(incidentId));
  } catch (e) {
    sugError = e; // no proposal: the dispatcher can still pick units by hand
  }
  const proposed = (sug && sug.units) || [];
  const list = el('ul', { class: 'suggest-list' }, proposed.map((u) => unitChoice(u, readOnly)));
  const extra = otherUnitsSelect(proposed);
  const msg = el('div', { class: 'panel-msg', 'aria-live': 'polite' });
  const go = el('button', { class: 'primary dispatch-go', type: 'button' }, t('dispatch_selected'));
  go.addEventListener('click', () => send(box, incidentId, msg, go, onDone));
  fill(box,
    el('h3', null, t('suggest_title')),
    sugError ? errorLine(sugError) : null,
    proposed.length ? list : sugError ? null : el('p', { class: 'muted' }, t('suggest_none')),
    gapsList(sug && sug.gaps),
    extra.length && !readOnly ? el('label', { class: 'other-units' }, el('span', null, t('other_units')), extra) : null,
    readOnly ? el('p', { class: 'muted' }, t('dispatch_readonly')) : go, msg);
}

function unitChoice(u, readOnly) {
  const where = u.position === 'home' || u.position_age_s === null || u.position_age_s === undefined
    ? t('suggest_home') : t('suggest_pos_age', { age: fmtAge(u.position_age_s) });
  const dist = typeof u.distance_km === 'number' ? t('km', { n: u.distance_km.toFixed(1) }) : '';
  const text = [el('b', null, u.name || u.unit), ' · ', u.department || '', ' · ', dist, ' · ', where];
  if (readOnly) return el('li', { class: 'read-only' }, text);
  return el('li', null, el('label', null,
    el('input', { type: 'checkbox', class: 'unit-pick', value: u.unit, checked: true }), text));
}

function gapsList(gaps) {
  if (!gaps || !gaps.length) return null;
  return el('ul', { class: 'gaps' }, gaps.map((g) => el('li', { class: 'warn' }, t('suggest_gap', {
    tier: g.tier, kind: g.kind || '', capability: g.capability || '', found: g.found, wanted: g.wanted,
  }))));
}

function otherUnitsSelect(proposed) {
  const taken = new Set(proposed.map((u) => u.unit));
  const avail = getUnits().filter((u) => u.status === 'available' && !taken.has(u.id));
  if (!avail.length) return [];
  avail.sort((a, b) => String(a.name).localeCompare(String(b.name)));
  return el('select', { class: 'unit-extra', multiple: true, size: Math.min(6, avail.length) },
    avail.map((u) => el('option', { value: u.id }, u.name + ' · ' + (u.department || ''))));
}

async function send(box, incidentId, msg, go, onDone) {
  const ids = [...box.querySelectorAll('.unit-pick:checked')].map((c) => c.value);
  const extra = box.querySelector('.unit-extra');
  if (extra) ids.push(...[...extra.selectedOptions].map((o) => o.value));
  if (!ids.length) { fill(msg, errorLine(t('dispatch_none'))); return; }
  go.disabled = true;
  try {
    const res = await post('/api/dispatch', { incident: incidentId, units: ids });
    const n = (res && res.tickets && res.tickets.length) || ids.length;
    fill(msg, el('p', { class: 'ok' }, t('dispatch_done', { n })));
    if (onDone) onDone(res);
  } catch (e) {
    fill(msg, errorLine(e));
    go.disabled = false;
  }
}
