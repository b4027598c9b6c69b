// Which tickets are late. The node decides (GET /api/alerts: tickets
// unacknowledged past their rule's time, not on scene within the response
// target); a ticket's own deadline fields, when the server sends them,
// let the page turn it amber shortly before and red at the moment it
// passes, between two polls of the alerts.
import { get } from './api.js';

const AMBER_BEFORE_S = 30;
const OPEN = new Set(['dispatched', 'acknowledged', 'enroute']);

// Map ticket id → 'ack' | 'scene' for every late ticket the node reports;
// the map's `others` holds the rest (escalations, conflicts, a cloned
// key) for the board's banners.
export async function loadAlerts() {
  const late = new Map();
  late.others = [];
  let data;
  try { data = await get('/api/alerts'); } catch (e) { return late; }
  const list = Array.isArray(data) ? data : (data && data.alerts) || [];
  for (const a of list) {
    if (!a) continue;
    const kind = String(a.kind || a.type || '');
    if (a.ticket && /late/.test(kind)) late.set(a.ticket, /scene|response|arriv/.test(kind) ? 'scene' : 'ack');
    else if (!/late/.test(kind)) late.others.push(a);
  }
  return late;
}

function deadlineOf(tk) {
  const v = tk.state === 'dispatched' ? (tk.ack_due || tk.ack_due_at) :
    (tk.onscene_due || tk.onscene_due_at);
  if (typeof v !== 'string') return null;
  const ms = Date.parse(v);
  return isNaN(ms) ? null : ms;
}

// 'red', 'amber' or null for one ticket.
export function lateInfo(tk, late) {
  if (!OPEN.has(tk.state)) return null;
  if (late.has(tk.id)) return 'red';
  if (tk.late === true || tk.overdue === true) return 'red';
  const due = deadlineOf(tk);
  if (due === null) return null;
  const left = (due - Date.now()) / 1000;
  if (left <= 0) return 'red';
  return left <= AMBER_BEFORE_S ? 'amber' : null;
}
