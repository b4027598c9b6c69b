// On a station or vehicle node the crew must hear a new ticket whatever
// page is open: while the unit terminal is not showing, this checks the
// node's own unit for tickets awaiting acknowledgement (on every live
// event and every 15 s) and raises the same loud alert, linked to the
// terminal. The terminal itself raises and clears it while it is shown.
import { get } from './api.js';
import * as alerts from './alert.js';
import { unitByRef } from './refdata.js';

export async function checkOwnTickets(session, pageName) {
  if (!session || pageName === 'unit') return;
  const role = session.node && session.node.role;
  if (role !== 'station' && role !== 'vehicle') return;
  const u = unitByRef(session.node.unit);
  if (!u) return;
  try {
    const d = await get('/api/tickets?unit=' + encodeURIComponent(u.id) + '&active=1');
    const waiting = ((d && d.tickets) || []).filter((tk) => tk.state === 'dispatched');
    if (waiting.length) alerts.raise('ticket', 'unit_new_ticket', null, { loud: true, link: '#/unit' });
    else alerts.clear('ticket');
  } catch (e) { /* the next event or poll tries again */ }
}
