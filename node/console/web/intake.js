// Intake: a call-taker reports an incident. Category (labels in the chosen
// language), location by a click on the map or typed coordinates, address,
// priority (blank: the category rule's default), what the caller says.
// After saving it shows the new incident as the node stored it and the
// units the rules propose, dispatched in one click.
import { el, fill, select, errorLine, ageOf, codeOf } from './dom.js';
import { t, label, fmtAge } from './i18n.js';
import { get, post } from './api.js';
import { getCategories, categoryLabel, getUnits, getDirectory, incStage, incText, homeOf, ownReports, openIncidents } from './refdata.js';
import { loadLeaflet, plainMap, centreOf, drawCounties } from './leaf.js';
import { dispatchPanel } from './dispatch.js';

export function mount(root, ctx) {
  const page = { map: null, marker: null, ctx };
  showForm(root, page);
  return { unmount: () => { if (page.map) page.map.remove(); } };
}

function field(key, input) {
  return el('label', { class: 'field' }, el('span', null, t(key)), input);
}

function rulePriority(cat) {
  const c = getCategories().find((x) => x.id === cat);
  if (c && typeof c.priority === 'number') return c.priority;
  const d = getDirectory();
  const r = d && Array.isArray(d.rules) && d.rules.find((x) => x.category === cat);
  return r && r.priority;
}

function showForm(root, page) {
  const cats = [['', t('intake_choose')]].concat(getCategories().map((c) => [c.id, categoryLabel(c.id)]));
  const f = {
    category: select({ id: 'in-category', required: true }, cats, ''),
    lat: el('input', { id: 'in-lat', inputmode: 'decimal', placeholder: '31.2304' }),
    lon: el('input', { id: 'in-lon', inputmode: 'decimal', placeholder: '121.4737' }),
    address: el('input', { id: 'in-address', maxlength: 255 }),
    caller: el('input', { id: 'in-caller', type: 'tel', inputmode: 'tel', maxlength: 31, autocomplete: 'off' }),
    callerName: el('input', { id: 'in-caller-name', maxlength: 63, autocomplete: 'off' }),
    priority: el('select', { id: 'in-priority' }),
    text: el('textarea', { id: 'in-text', rows: 4, maxlength: 1023 }),
  };
  const fillPriority = () => {
    const def = rulePriority(f.category.value);
    fill(f.priority, el('option', { value: '' }, t('intake_priority_default') + (def ? ' (' + t('priority_n', { n: def }) + ')' : '')),
      [1, 2, 3, 4, 5].map((n) => el('option', { value: n }, n === 1 ? t('intake_priority_1') : n === 5 ? t('intake_priority_5') : String(n))));
  };
  fillPriority();
  f.category.addEventListener('change', fillPriority);
  const msg = el('div', { id: 'intake-msg', 'aria-live': 'polite' });
  const dup = el('div', { id: 'intake-dup', 'aria-live': 'polite' });
  const checkDup = () => duplicates(f, dup);
  ['change', 'input'].forEach((ev) => [f.category, f.lat, f.lon].forEach((x) => x.addEventListener(ev, checkDup)));
  const mapDiv = el('div', { id: 'intake-map', class: 'small-map' });
  const submit = el('button', { id: 'in-submit', class: 'primary big', type: 'submit', disabled: !page.ctx.can.report }, t('intake_submit'));
  const form = el('form', { id: 'intake-form', class: 'intake' },
    field('intake_category', f.category),
    el('fieldset', null, el('legend', null, t('intake_location')),
      el('p', { class: 'muted' }, t('intake_map_hint')), mapDiv,
      el('div', { class: 'coords' }, field('intake_lat', f.lat), field('intake_lon', f.lon))),
    dup, field('intake_address', f.address),
    el('div', { class: 'coords' }, field('intake_caller', f.caller), field('intake_caller_name', f.callerName)),
    field('intake_priority', f.priority), field('intake_text', f.text),
    page.ctx.can.report ? null : el('p', { class: 'error' }, t('forbidden_report')), submit, msg);
  form.addEventListener('submit', (e) => { e.preventDefault(); save(root, page, f, msg, submit); });
  fill(root, el('h1', null, t('intake_title')), form);
  setupMap(page, mapDiv, f);
}

async function setupMap(page, div, f) {
  const L = await loadLeaflet();
  if (!L || !div.isConnected) { div.hidden = true; return; }
  const pts = getUnits().map((u) => (typeof u.lat === 'number' ? [u.lat, u.lon] : homeOf(u.name))).filter((p) => p);
  page.map = plainMap(L, div, centreOf(pts), 11);
  drawCounties(L, page.map);
  const place = (lat, lon) => {
    if (page.marker) page.marker.setLatLng([lat, lon]);
    else page.marker = L.circleMarker([lat, lon], { radius: 9, color: '#b00020', fillOpacity: 0.8 }).addTo(page.map);
  };
  page.map.on('click', (e) => {
    f.lat.value = e.latlng.lat.toFixed(6);
    f.lon.value = e.latlng.lng.toFixed(6);
    place(e.latlng.lat, e.latlng.lng);
    f.lat.dispatchEvent(new Event('change'));
  });
  const typed = () => {
    const lat = parseFloat(f.lat.value);
    const lon = parseFloat(f.lon.value);
    if (isFinite(lat) && isFinite(lon) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180) place(lat, lon);
  };
  f.lat.addEventListener('input', typed);
  f.lon.addEventListener('input', typed);
}

function oneLine(s) { return s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim(); }

function readForm(f) {
  if (!f.category.value) return { error: t('intake_need_category') };
  const latS = f.lat.value.trim();
  const lonS = f.lon.value.trim();
  if (!latS || !lonS) return { error: t('intake_need_location') };
  const lat = Number(latS);
  const lon = Number(lonS);
  if (!isFinite(lat) || !isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) return { error: t('intake_bad_coord') };
  const body = { category: f.category.value, lat, lon };
  // The node keeps one line of text and refuses control characters, so
  // the caller's words typed on several lines are joined with spaces; an
  // empty field is left out (the node takes it as none).
  const address = oneLine(f.address.value);
  const text = oneLine(f.text.value);
  if (address) body.address = address;
  if (text) body.text = text;
  // the caller's number and name: sealed to the dispatchers' key by the
  // node (need to know), or left out when it holds none (the reply says so)
  const caller = oneLine(f.caller.value);
  const callerName = oneLine(f.callerName.value);
  if (caller) body.caller = caller;
  if (callerName) body.caller_name = callerName;
  if (f.priority.value) body.priority = Number(f.priority.value);
  return { body };
}

async function save(root, page, f, msg, submit) {
  const r = readForm(f);
  if (r.error) { fill(msg, errorLine(r.error)); return; }
  submit.disabled = true;
  try {
    const res = await post('/api/incidents', r.body);
    ownReports.add(res.id);
    if (page.map) { page.map.remove(); page.map = null; page.marker = null; }
    await showSaved(root, page, res.id, res.warning);
  } catch (e) {
    fill(msg, errorLine(e));
    submit.disabled = false;
  }
}

async function showSaved(root, page, id, warning) {
  let inc = null;
  try { inc = await get('/api/incidents/' + encodeURIComponent(id)); } catch (e) { /* shown by id below */ }
  inc = (inc && inc.incident) || inc || { id };
  const again = el('button', { id: 'in-again', type: 'button', class: 'big', onclick: () => showForm(root, page) }, t('intake_another'));
  fill(root,
    el('h1', null, t('intake_saved', { id: codeOf(inc) })),
    warning ? el('p', { id: 'intake-caller-warning', class: 'error', role: 'alert' }, t('intake_caller_left_out')) : null,
    el('div', { id: 'intake-saved', class: 'card', dataset: { id } },
      el('div', { class: 'cat' }, el('span', { class: 'pri-badge p' + inc.priority }, t('priority_n', { n: inc.priority })), ' ', categoryLabel(inc.category)),
      el('div', { class: 'addr' }, inc.address || ''),
      el('div', { class: 'inc-text' }, incText(inc)),
      el('div', { class: 'muted' }, label('stage_', incStage(inc)), ' · ', (inc.lat !== undefined ? inc.lat + ', ' + inc.lon : ''))),
    dispatchPanel(id, () => {}, !page.ctx.can.dispatch),
    again);
}

// Possible duplicates: open incidents of the same category within 300 m
// reported in the last 30 minutes, shown before saving (a second caller
// about the same fire is a note on the first incident, not a new one).
const DUP_RADIUS_M = 300;
const DUP_WINDOW_S = 1800;
let dupTimer = null;
let dupSeq = 0;

function metres(lat1, lon1, lat2, lon2) {
  const r = Math.PI / 180;
  const a = Math.sin((lat2 - lat1) * r / 2) ** 2 +
    Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin((lon2 - lon1) * r / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.min(1, Math.sqrt(a)));
}

function duplicates(f, box) {
  // 'change' follows 'input' when the field loses focus: same values, no
  // new check (a redraw would wipe what the call-taker just did in the box)
  const key = [f.category.value, f.lat.value.trim(), f.lon.value.trim()].join('|');
  if (key === box.dataset.key) return;
  box.dataset.key = key;
  clearTimeout(dupTimer);
  const mine = ++dupSeq; // only the newest check may draw: answers can overtake each other
  dupTimer = setTimeout(async () => {
    const lat = Number(f.lat.value);
    const lon = Number(f.lon.value);
    if (!f.category.value || !f.lat.value.trim() || !f.lon.value.trim() || !isFinite(lat) || !isFinite(lon)) { fill(box); return; }
    let open = [];
    try { open = await openIncidents(); } catch (e) { return; }
    if (mine !== dupSeq) return;
    const near = open.filter((i) => i.category === f.category.value &&
      (ageOf(i.reported_at) ?? Infinity) <= DUP_WINDOW_S && metres(lat, lon, i.lat, i.lon) <= DUP_RADIUS_M);
    fill(box, near.length ? el('div', { class: 'notice dup-warning' }, el('b', null, t('dup_title')),
      el('ul', null, near.map((i) => el('li', null, categoryLabel(i.category), ' · ', i.address || '', ' · ',
        t('km', { n: (metres(lat, lon, i.lat, i.lon) / 1000).toFixed(2) }), ' · ', t('ago', { age: fmtAge(ageOf(i.reported_at)) }),
        ' · ', el('span', { title: i.id }, codeOf(i)), ' ', noteButton(i, f, box))))) : null);
  }, 300);
}

// The caller's words go onto the existing incident as a note instead.
function noteButton(inc, f, box) {
  const msg = el('span', { class: 'note-msg' });
  const btn = el('button', { type: 'button', class: 'add-note', dataset: { incident: inc.id }, onclick: async () => {
    const text = oneLine(f.text.value);
    if (!text) { fill(msg, el('span', { class: 'error' }, t('note_need_text'))); return; }
    btn.disabled = true;
    try {
      await post('/api/incidents/' + encodeURIComponent(inc.id) + '/note', { text });
      fill(box, el('p', { class: 'ok note-added' }, t('note_added', { id: codeOf(inc) })));
      f.text.value = '';
    } catch (e) { btn.disabled = false; fill(msg, errorLine(e)); }
  } }, t('btn_add_note'));
  return [btn, msg];
}
