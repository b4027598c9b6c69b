// An incident's timeline on the board: every op about it in time order
// (report, notes, dispatches, ticket steps...), each with who did it: the
// node that signed it (its key tag) and, when the op names one, the console
// operator at that node (op format 2, docs/console-api.md). Loaded when
// the panel opens; every value is inserted as text.
import { el, fill, errorLine } from './dom.js';
import { t } from './i18n.js';
import { get } from './api.js';
import { nodeTimeZone } from './header.js';

const TAG_LEN = 8; // the key tag the CLI shows too

export function byText(e) {
  const node = (e.author || '').slice(0, TAG_LEN);
  return e.operator ? t('tl_by_operator', { node, operator: e.operator }) : node;
}

// In the node's time zone when it has one (node.time_zone), with the
// zone's name, as the CLI's tables show the offset.
function when(iso) {
  const d = iso ? new Date(iso) : null;
  if (!d || isNaN(d)) return '';
  const timeZone = nodeTimeZone();
  try {
    return timeZone ? d.toLocaleString(undefined, { timeZone, timeZoneName: 'short' }) : d.toLocaleString();
  } catch (e) { // a zone this browser does not know
    return d.toLocaleString();
  }
}

export function timelinePanel(incId) {
  const box = el('div', { class: 'timeline', dataset: { incident: incId } }, t('loading'));
  (async () => {
    try {
      const res = await get('/api/incidents/' + encodeURIComponent(incId));
      const list = (res && (res.timeline || (res.incident && res.incident.timeline))) || [];
      fill(box, el('table', { class: 'timeline-table' },
        el('thead', null, el('tr', null, ['tl_time', 'tl_by', 'tl_kind', 'tl_text'].map((k) => el('th', null, t(k))))),
        el('tbody', null, list.map((e) => el('tr', { class: 'tl-entry', dataset: { kind: e.kind } },
          el('td', null, when(e.at)),
          el('td', { class: 'tl-by', title: e.author || '' }, byText(e)),
          el('td', null, e.kind || ''),
          el('td', null, e.text || ''))))));
    } catch (err) { fill(box, errorLine(err)); }
  })();
  return box;
}
