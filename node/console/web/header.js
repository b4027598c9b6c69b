// The header every page shares: which node this is, its role, and how long
// since it heard the centre and its peers. A county cut off from the centre
// sees it at once (a red band); the ages tick every second between polls of
// /api/status, so "last heard" never freezes while the server is slow.
import { el, fill } from './dom.js';
import { t, label, fmtAge } from './i18n.js';
import { get } from './api.js';

const CENTRE_STALE_S = 60;     // amber: a few missed heartbeats
const CENTRE_CUT_S = 180;      // red: the link is down, act on it
const CENTRE_LINK_DOWN_S = 30; // red sooner when our own link to it is down

let status = null;
let peers = null;           // /api/peers rows, null when unknown
let fetchedAt = 0;
let failed = false;
let session = null;
let timer = null;

export function setSession(s) { session = s; render(); }
export function currentStatus() { return status; }

// Seconds since the centre was heard, as of now; null if never; the
// string 'self' when this node is the centre.
export function centreAge() {
  if (!status) return undefined;
  if (status.role === 'centre') return 'self';
  const base = pickCentreAge(status);
  if (base === null || base === undefined) return null;
  return base + (Date.now() - fetchedAt) / 1000;
}

// The centre's age: the freshest of what the node says about it: a
// direct peer's last message (/api/peers) or any sign of the centre by any
// path (/api/status nodes[]: its newest op or presence record).
function pickCentreAge(s) {
  const ages = [];
  const direct = firstNum(s.centre_last_heard_age_s, s.centre_last_seen_age_s);
  if (direct !== null) ages.push(direct);
  for (const n of Array.isArray(s.nodes) ? s.nodes : []) {
    if (n.role !== 'centre' || n.revoked) continue;
    const a = firstNum(n.last_seen_s_ago, n.last_seen_age_s, n.last_heard_age_s);
    if (a !== null) ages.push(a);
  }
  for (const p of peers || []) {
    if (peerRole(p) !== 'centre') continue;
    const a = firstNum(p.last_heard_age_s, p.last_seen_age_s);
    if (a !== null) ages.push(a);
  }
  return ages.length ? Math.min(...ages) : null;
}

// A peer's role: its own field, else what /api/status says of the node
// with its key (or name).
export function peerRole(p) {
  if (p.role) return p.role;
  const nodes = (status && Array.isArray(status.nodes)) ? status.nodes : [];
  const n = nodes.find((x) => (p.key && x.key === p.key)) || nodes.find((x) => p.name && x.name === p.name);
  return n ? n.role : null;
}

function firstNum(...vals) {
  for (const v of vals) if (typeof v === 'number' && isFinite(v)) return v;
  return null;
}

// The node's configured time zone (node.time_zone), or undefined: the
// browser's own.
export function nodeTimeZone() {
  return (status && typeof status.time_zone === 'string' && status.time_zone) || undefined;
}

export function peerCounts() {
  if (peers) return { up: peers.filter((p) => p.connected).length, all: peers.length };
  return null;
}

export async function refresh() {
  try {
    const [st, pr] = await Promise.all([get('/api/status'), get('/api/peers').catch(() => null)]);
    status = st;
    peers = pr === null ? null : Array.isArray(pr) ? pr : (pr.peers || null);
    fetchedAt = Date.now();
    failed = false;
  } catch (e) {
    failed = true;
  }
  render();
}

export function start() {
  refresh();
  if (!timer) timer = setInterval(() => { tickCount++; if (tickCount % 5 === 0) refresh(); else render(); }, 1000);
}
let tickCount = 0;

function nodeText() {
  const node = (session && session.node) || status || {};
  const parts = [t('node_label'), el('b', { id: 'node-name' }, node.name || '?'),
    ' (' + label('role_', node.role || (status && status.role)) + ')'];
  const unit = node.unit || (status && status.unit);
  if (unit) parts.push(' · ' + t('unit_label'), el('b', null, unit));
  return parts;
}

// 'ok', 'stale' or 'cut' for an age from centreAge(). When the centre is
// one of our own peers and its link is down, it is cut as soon as a few
// heartbeats are missed, not only after CENTRE_CUT_S.
export function centreLevel(age) {
  if (age === 'self') return 'ok';
  if (age === null || age === undefined) return 'cut';
  if (age >= CENTRE_CUT_S) return 'cut';
  const direct = (peers || []).filter((p) => peerRole(p) === 'centre');
  if (direct.length && !direct.some((p) => p.connected) && age >= CENTRE_LINK_DOWN_S) return 'cut';
  return age >= CENTRE_STALE_S ? 'stale' : 'ok';
}

function centreLine() {
  const age = centreAge();
  if (failed) return el('span', { class: 'centre cut', id: 'centre-status' }, t('status_unknown'));
  if (age === undefined) return el('span', { class: 'centre', id: 'centre-status' }, t('loading'));
  if (age === 'self') return el('span', { class: 'centre ok', id: 'centre-status' }, t('centre_is_here'));
  if (age === null) return el('span', { class: 'centre cut', id: 'centre-status' }, t('centre_cut_never'));
  const cls = centreLevel(age);
  const text = cls === 'cut' ? t('centre_cut', { age: fmtAge(age) }) : t('centre_heard', { age: fmtAge(age) });
  return el('span', { class: 'centre ' + cls, id: 'centre-status', dataset: { ageS: Math.floor(age) } }, text);
}

function render() {
  const box = document.getElementById('node-status');
  if (!box) return;
  const pc = peerCounts();
  fill(box,
    el('span', { class: 'node' }, nodeText()),
    centreLine(),
    pc ? el('span', { class: 'peers' + (pc.up === 0 && pc.all > 0 ? ' cut' : '') }, t('peers_count', pc)) : null);
  const who = document.getElementById('operator');
  if (who && session && session.operator) {
    fill(who, session.operator.name + ' (' + label('oprole_', session.operator.role) + ')');
  }
}
