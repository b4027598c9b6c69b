// Reports: the assessment report (GET /api/report, the same figures as
// `fieldmesh report`) by unit, department, county (the responding
// department's or where it happened), tier or category: the segments
// processing, turnout and travel (median / p90 and the share within the
// NFPA targets), the response, shares cleared and escalated, satisfaction,
// and the late cases. A bar chart when the node has Debian's
// libjs-chart.js; a CSV download of every figure of the groups.
import { el, fill, select, errorLine } from './dom.js';
import { t, fmtDur } from './i18n.js';
import { get, qs } from './api.js';
import { categoryLabel } from './refdata.js';

const INTERVALS = ['report_to_dispatch', 'dispatch_to_ack', 'ack_to_enroute', 'enroute_to_onscene', 'onscene_to_cleared'];
const SEGMENTS = ['processing', 'turnout', 'travel'];
const LATE_SHOWN = 20;
const query = { by: 'unit', from: '', to: '' };
let chartLoading = null;
let chart = null;

export function mount(root) {
  const out = el('div', { id: 'report-out' });
  const by = select({ id: 'rep-by' }, ['unit', 'department', 'county', 'incident-county', 'tier', 'category'].map((b) => [b, t('by_' + b.replace('-', '_'))]), query.by);
  const from = el('input', { id: 'rep-from', type: 'date', value: query.from });
  const to = el('input', { id: 'rep-to', type: 'date', value: query.to });
  const run = () => {
    Object.assign(query, { by: by.value, from: from.value, to: to.value });
    load(out);
  };
  const form = el('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); run(); } },
    el('label', null, t('reports_by') + ' ', by), el('label', null, t('reports_from') + ' ', from),
    el('label', null, t('reports_to') + ' ', to), el('button', { type: 'submit', class: 'primary' }, t('reports_run')));
  fill(root, el('h1', null, t('reports_title')), form, out);
  run();
  return { unmount: () => { if (chart) { chart.destroy(); chart = null; } } };
}

async function load(out) {
  fill(out, t('loading'));
  let rep;
  try { rep = await get('/api/report' + qs(query)); } catch (e) { fill(out, errorLine(e)); return; }
  const groups = (rep && rep.groups) || [];
  const canvas = el('canvas', { id: 'rep-chart', height: 260 });
  const chartBox = el('div', { class: 'chart-box' }, canvas);
  fill(out,
    el('p', null, el('a', { id: 'rep-csv', href: csvUrl(rep), download: 'fieldmesh-report-' + query.by + '.csv', class: 'button' }, t('reports_csv'))),
    reportTable(groups, rep.by || query.by),
    targetsLine(rep),
    rep.clock_note ? el('p', { class: 'muted' }, rep.clock_note) : null,
    lateList(rep),
    chartBox);
  drawChart(canvas, chartBox, groups, rep.by || query.by);
}

function groupName(g, by) { return by === 'category' ? categoryLabel(g.group) : String(g.group); }
function iv(g, name) { return name === 'response' ? g.response : (g.intervals || {})[name]; }
function pair(x) { return x && x.n ? fmtDur(x.median_s) + ' / ' + fmtDur(x.p90_s) : '–'; }
function pct(v) { return typeof v === 'number' ? Math.round(v * 100) + ' %' : '–'; }

function seg(g, name) { return (g.segments || {})[name]; }
function segCell(x) { return x && x.n ? pair(x) + ' · ' + pct(x.within_target_share) : '–'; }

function reportTable(groups, by) {
  const head = ['col_group', 'col_tickets_n', 'col_processing', 'col_turnout', 'col_travel', 'col_response', 'col_within', 'col_late', 'col_cleared', 'col_escalated', 'col_satisfaction'];
  return el('table', { class: 'report' }, el('thead', null, el('tr', null, head.map((k, i) => el('th', { class: i ? 'num' : null }, t(k))))),
    el('tbody', null, groups.map((g) => el('tr', null,
      el('td', null, groupName(g, by)), el('td', { class: 'num' }, g.tickets),
      SEGMENTS.map((n) => el('td', { class: 'num' }, segCell(seg(g, n)))),
      el('td', { class: 'num' }, pair(iv(g, 'response'))),
      el('td', { class: 'num' }, pct(g.within_target_share)),
      el('td', { class: 'num' + (g.late ? ' late' : '') }, g.late || 0),
      el('td', { class: 'num' }, pct(g.cleared_share)),
      el('td', { class: 'num' }, pct(g.escalated_share)),
      el('td', { class: 'num' }, typeof g.satisfaction === 'number' ? g.satisfaction.toFixed(1) : '–')))));
}

function targetsLine(rep) {
  const tg = rep.segment_targets_s || {};
  return el('p', { class: 'muted' }, t('reports_targets', { processing: fmtDur(tg.processing || 0), turnout: fmtDur(tg.turnout || 0), travel: fmtDur(tg.travel || 0) }));
}

// The tickets over a target, most over first (the API's order).
function lateList(rep) {
  const late = rep.late || [];
  if (!late.length) return null;
  const more = late.length - LATE_SHOWN + (rep.late_more || 0);
  return el('div', { id: 'rep-late' },
    el('h2', null, t('reports_late_title', { n: (rep.groups || []).reduce((a, g) => a + (g.late || 0), 0), m: late.length + (rep.late_more || 0) })),
    el('table', { class: 'report' },
      el('thead', null, el('tr', null, ['col_incident', 'col_unit', 'col_category', 'col_measure', 'col_took', 'col_target'].map((k) => el('th', null, t(k))))),
      el('tbody', null, late.slice(0, LATE_SHOWN).map((l) => el('tr', null,
        el('td', null, el('a', { href: '#/incident/' + encodeURIComponent(l.incident) }, l.incident)),
        el('td', null, l.unit), el('td', null, categoryLabel(l.category)),
        el('td', null, t('measure_' + l.measure)), el('td', { class: 'num' }, fmtDur(l.seconds)),
        el('td', { class: 'num' }, fmtDur(l.target_s)))))),
    more > 0 ? el('p', { class: 'muted' }, t('reports_late_more', { n: more })) : null);
}

// A spreadsheet must not run what a unit's name says: cells starting with
// = + - @ get a leading quote. The BOM lets spreadsheets read the UTF-8
// Chinese names correctly.
function csvCell(v) {
  let s = v === null || v === undefined ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
  return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

function csvUrl(rep) {
  const cols = ['group', 'tickets'];
  INTERVALS.concat(['response']).forEach((n) => cols.push(n + '_n', n + '_median_s', n + '_p90_s'));
  cols.push('within_target_share', 'cleared_share', 'cancelled_share', 'escalated_share', 'feedback_count', 'satisfaction');
  SEGMENTS.forEach((n) => cols.push(n + '_n', n + '_median_s', n + '_p90_s', n + '_within_target_share'));
  cols.push('late');
  const lines = [cols.join(',')];
  for (const g of rep.groups || []) {
    const row = [g.group, g.tickets];
    INTERVALS.concat(['response']).forEach((n) => { const x = iv(g, n) || {}; row.push(x.n, x.median_s, x.p90_s); });
    row.push(g.within_target_share, g.cleared_share, g.cancelled_share, g.escalated_share, g.feedback_count, g.satisfaction);
    SEGMENTS.forEach((n) => { const x = seg(g, n) || {}; row.push(x.n, x.median_s, x.p90_s, x.within_target_share); });
    row.push(g.late);
    lines.push(row.map(csvCell).join(','));
  }
  if (rep.clock_note) lines.push('# note: ' + String(rep.clock_note).replace(/[\r\n]+/g, ' '));
  // a data: URL (not a blob:) so the link is the file itself, readable
  // by anything that can read the page; a report is a few kilobytes
  return 'data:text/csv;charset=utf-8,' + encodeURIComponent('\ufeff' + lines.join('\r\n') + '\r\n');
}

function loadChartJs() {
  if (window.Chart) return Promise.resolve(window.Chart);
  if (!chartLoading) {
    chartLoading = new Promise((resolve) => {
      const s = el('script', { src: '/vendor/chart.js/chart.min.js' });
      s.addEventListener('load', () => resolve(window.Chart || null));
      s.addEventListener('error', () => resolve(null));
      document.head.appendChild(s);
    });
  }
  return chartLoading;
}

async function drawChart(canvas, box, groups, by) {
  const Chart = await loadChartJs();
  if (!canvas.isConnected) return;
  if (!Chart) { fill(box, el('p', { class: 'muted' }, t('reports_no_chart'))); return; }
  if (chart) chart.destroy();
  const min = (x) => (x && x.n ? +(x.median_s / 60).toFixed(1) : null);
  const p90 = (x) => (x && x.n ? +(x.p90_s / 60).toFixed(1) : null);
  chart = new Chart(canvas, {
    type: 'bar',
    data: {
      labels: groups.map((g) => groupName(g, by)),
      datasets: [
        { label: t('chart_median'), data: groups.map((g) => min(g.response)), backgroundColor: '#1f4e9c' },
        { label: t('chart_p90'), data: groups.map((g) => p90(g.response)), backgroundColor: '#e0a030' },
      ],
    },
    options: { responsive: true, maintainAspectRatio: false, animation: false },
  });
}
