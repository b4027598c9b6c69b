// The map: open incidents and units on a plain background (no tiles
// offline) with a grid, a scale and county outlines. Units sit at their
// latest position, GPS or typed, faded as the position ages; a unit that
// never reported one sits at its home station, drawn hollow. Clicking a
// unit lets a dispatcher send it to an open incident. Without Leaflet
// (Debian libjs-leaflet missing) the same data is shown as two lists.
import { el, fill, ageOf, select, errorLine, codeOf } from './dom.js';
import { t, label, fmtAge } from './i18n.js';
import { post } from './api.js';
import { getUnits, categoryLabel, incText, loadUnits, homeOf, openIncidents } from './refdata.js';
import { loadLeaflet, plainMap, centreOf, drawCounties } from './leaf.js';

const markers = []; // {kind, id, layer}: read by fmConsole.mapMarkers()
const STATUS_COLOUR = { available: '#1f4e9c', assigned: '#d9480f', onscene: '#1b7f3b', offline: '#6c7f92' };

export function mount(root, ctx) {
  const st = { ctx, map: null, L: null, layer: null, incidents: [], fitted: false };
  const mapDiv = el('div', { id: 'map', class: 'big-map' });
  const lists = el('div', { id: 'map-lists', class: 'map-lists' });
  fill(root, el('div', { class: 'page-head' }, el('h1', null, t('map_title')), legend()), mapDiv, lists);
  const reload = async () => {
    try {
      st.incidents = await openIncidents();
    } catch (e) { fill(lists, errorLine(e)); return; }
    draw(st);
    renderLists(lists, st);
  };
  loadLeaflet().then((L) => {
    if (!mapDiv.isConnected) return;
    if (L) {
      st.L = L;
      st.map = plainMap(L, mapDiv, centreOf(homePoints()), 11);
      drawCounties(L, st.map);
      st.layer = L.layerGroup().addTo(st.map);
    } else {
      fill(mapDiv, el('p', { class: 'warn' }, t('map_no_leaflet')));
      mapDiv.className = 'no-map';
      const lg = root.querySelector('.legend');
      if (lg) lg.hidden = true; // nothing drawn: no colours to explain
    }
    reload();
  });
  const poll = setInterval(async () => { await loadUnits(); draw(st); }, 15000);
  return {
    update: () => reload(),
    unmount: () => { clearInterval(poll); if (st.map) st.map.remove(); markers.length = 0; },
  };
}

function homePoints() {
  return getUnits().map(unitPos).filter((p) => p).map((p) => [p.lat, p.lon]);
}

function legend() {
  return el('div', { class: 'legend' },
    el('span', { class: 'lg lg-incident' }), t('map_legend_incident'), ' ',
    el('span', { class: 'lg lg-unit' }), t('map_legend_unit'), ' ',
    el('span', { class: 'lg lg-assigned' }), label('unit_', 'assigned'), ' ',
    el('span', { class: 'lg lg-onscene' }), label('unit_', 'onscene'), ' ',
    el('span', { class: 'lg lg-home' }), t('map_legend_home'));
}

// Opacity from position age: fresh 1.0, an hour old 0.35.
function fade(ageS) {
  if (ageS === null) return 0.35;
  return Math.max(0.35, 1 - ageS / 3600 * 0.65);
}

function unitPos(u) {
  if (typeof u.lat === 'number' && typeof u.lon === 'number') {
    const src = u.position_source || u.source || 'reported';
    return { lat: u.lat, lon: u.lon, home: src === 'home', age: ageOf(u.position_at), src };
  }
  const home = Array.isArray(u.home) && u.home.length === 2 ? u.home : homeOf(u.name);
  return home ? { lat: home[0], lon: home[1], home: true, age: null, src: 'home' } : null;
}

function draw(st) {
  if (!st.map) return;
  const L = st.L;
  st.layer.clearLayers();
  markers.length = 0;
  for (const u of getUnits()) {
    const p = unitPos(u);
    if (!p) continue;
    const colour = STATUS_COLOUR[u.status] || '#6c7f92';
    const m = L.circleMarker([p.lat, p.lon], {
      radius: 7, color: colour, weight: 2,
      fillColor: colour, fillOpacity: p.home ? 0 : fade(p.age), opacity: p.home ? 0.8 : fade(p.age),
    });
    m.bindTooltip(el('span', null, u.name || u.id), { direction: 'top' });
    m.bindPopup(() => unitPopup(u, p, st));
    st.layer.addLayer(m);
    markers.push({ kind: 'unit', id: u.id, layer: m });
  }
  for (const inc of st.incidents) {
    const m = L.circleMarker([inc.lat, inc.lon], { radius: 10, color: '#b00020', weight: 3, fillColor: '#e53935', fillOpacity: 0.85 });
    m.bindTooltip(el('span', null, categoryLabel(inc.category) + ' · ' + (inc.address || '')), { direction: 'top' });
    m.bindPopup(() => incidentPopup(inc));
    st.layer.addLayer(m);
    markers.push({ kind: 'incident', id: inc.id, layer: m });
  }
  if (!st.fitted && st.incidents.length) {
    st.map.fitBounds(L.latLngBounds(st.incidents.map((i) => [i.lat, i.lon])).pad(0.5), { maxZoom: 14 });
    st.fitted = true;
  }
}

function incidentPopup(inc) {
  return el('div', { class: 'popup' },
    el('b', null, t('priority_n', { n: inc.priority }) + ' ' + categoryLabel(inc.category)),
    el('div', null, inc.address || ''), el('div', null, incText(inc)),
    el('div', { class: 'muted' }, label('stage_', inc.stage || inc.status), ' · ', fmtAge(ageOf(inc.reported_at)), ' · ', codeOf(inc)));
}

function unitPopup(u, p, st) {
  const where = p.home ? t('map_home') : (p.src === 'gps' ? t('map_gps') : t('map_reported')) + ' · ' + t('map_pos_age', { age: fmtAge(p.age) });
  const box = el('div', { class: 'popup' }, el('b', null, u.name || u.id), el('div', null, u.department || ''),
    el('div', null, label('unit_', u.status)), el('div', { class: 'muted' }, where));
  if (st.ctx.can.dispatch && u.status === 'available' && st.incidents.length) box.appendChild(sendUnit(u, st));
  return box;
}

// Send this unit to one of the open incidents (a dispatch of one unit).
function sendUnit(u, st) {
  const opts = st.incidents.map((i) => [i.id, t('priority_n', { n: i.priority }) + ' ' + categoryLabel(i.category) + ' · ' + codeOf(i) + (i.address ? ' ' + i.address : '')]);
  const pick = select({ class: 'map-dispatch-incident' }, opts, opts[0][0]);
  const msg = el('div');
  const go = el('button', { type: 'button', class: 'primary', onclick: async () => {
    try {
      await post('/api/dispatch', { incident: pick.value, units: [u.id] });
      fill(msg, el('span', { class: 'ok' }, t('dispatch_done', { n: 1 })));
    } catch (e) { fill(msg, errorLine(e)); }
  } }, t('map_dispatch_unit'));
  return el('div', { class: 'map-dispatch' }, pick, go, msg);
}

function renderLists(box, st) {
  const incRows = st.incidents.map((i) => el('tr', { dataset: { id: i.id } },
    el('td', null, t('priority_n', { n: i.priority })), el('td', null, categoryLabel(i.category)),
    el('td', null, i.address || ''), el('td', { class: 'coord' }, i.lat.toFixed(5) + ', ' + i.lon.toFixed(5))));
  const unitRows = getUnits().map((u) => {
    const p = unitPos(u);
    return el('tr', { dataset: { id: u.id } }, el('td', null, u.name || u.id), el('td', null, u.department || ''),
      el('td', null, label('unit_', u.status)),
      el('td', { class: 'coord' }, p ? p.lat.toFixed(5) + ', ' + p.lon.toFixed(5) + ' (' + (p.home ? t('map_home') : fmtAge(p.age)) + ')' : t('map_no_position')));
  });
  const head = (keys) => el('thead', null, el('tr', null, keys.map((k) => el('th', null, t(k)))));
  fill(box,
    el('h2', null, t('map_incidents')),
    el('table', { class: 'list' }, head(['col_priority', 'col_incident', 'col_address', 'col_position']), el('tbody', null, incRows)),
    el('h2', null, t('map_units')),
    el('table', { class: 'list' }, head(['col_name', 'col_department', 'col_status', 'col_position']), el('tbody', null, unitRows)));
}

window.fmConsole = Object.assign(window.fmConsole || {}, {
  mapMarkers: () => markers.map((m) => ({ kind: m.kind, id: m.id, lat: m.layer.getLatLng().lat, lon: m.layer.getLatLng().lng })),
});
