// Bulletins addressed to this node, shown under the unit terminal's
// tickets: unread ones first and marked, each with a big "Read" button
// that records the read receipt (POST /api/bulletins/{id}/read), so the
// sender sees who has read it.
import { el, fill, ageOf, errorLine } from './dom.js';
import { t, label, fmtAge } from './i18n.js';
import { get, post } from './api.js';

export function bulletinBox() {
  const box = el('section', { id: 'bulletins', class: 'bulletins' });
  reload(box);
  return box;
}

export async function reload(box) {
  let list;
  try {
    const d = await get('/api/bulletins');
    list = ((d && d.bulletins) || []).filter((b) => b.for_me);
  } catch (e) { fill(box, errorLine(e)); return; }
  list.sort((a, b) => (a.read_by_me - b.read_by_me) || String(b.sent_at).localeCompare(String(a.sent_at)));
  fill(box, el('h2', null, t('bulletins_title')),
    list.length ? list.slice(0, 20).map((b) => item(b, box)) : el('p', { class: 'muted' }, t('bulletins_none')));
}

function item(b, box) {
  const msg = el('span');
  return el('div', { class: 'bulletin' + (b.read_by_me ? ' read' : ' unread'), dataset: { id: b.id } },
    el('div', { class: 'b-text' }, b.text),
    el('div', { class: 'muted' }, t('ago', { age: fmtAge(ageOf(b.sent_at)) }), ' · ', label('aud_', b.to)),
    b.read_by_me ? el('div', { class: 'muted' }, t('bulletin_read')) : el('button', {
      type: 'button', class: 'step-btn next b-read', onclick: async () => {
        try { await post('/api/bulletins/' + encodeURIComponent(b.id) + '/read'); reload(box); } catch (e) { fill(msg, errorLine(e)); }
      } }, t('btn_bulletin_read')),
    msg);
}
