// Network: this node's peers (GET /api/peers, the figures of `fieldmesh
// peers`): connected or not, how long since each was heard, what each side
// lacks, clock skew; and, in large type, how long since the centre was
// heard, which is what a county dispatcher needs to know when calls pile up.
import { el, fill, errorLine } from './dom.js';
import { t, label, fmtAge } from './i18n.js';
import { get } from './api.js';
import { centreAge, centreLevel, currentStatus, peerRole } from './header.js';

export function mount(root) {
  const big = el('p', { id: 'net-centre', class: 'net-centre' });
  const table = el('div', { id: 'peers' });
  fill(root, el('h1', null, t('network_title')), big, table);
  const reload = async () => {
    try {
      const data = await get('/api/peers');
      renderPeers(table, Array.isArray(data) ? data : (data && data.peers) || []);
    } catch (e) {
      // a node without /api/peers still says, in /api/status, when it last
      // heard of every node: show that rather than nothing
      const st = currentStatus();
      if (e.status === 404 && st && Array.isArray(st.nodes)) renderNodes(table, st.nodes);
      else fill(table, errorLine(e));
    }
  };
  const showCentre = () => {
    const age = centreAge();
    if (age === undefined) return;
    const level = age === 'self' ? 'ok' : centreLevel(age);
    big.className = 'net-centre ' + level;
    fill(big, age === 'self' ? t('centre_is_here') : age === null ? t('centre_cut_never')
      : level === 'cut' ? t('centre_cut', { age: fmtAge(age) }) : t('centre_heard', { age: fmtAge(age) }));
  };
  reload();
  showCentre();
  const tick = setInterval(showCentre, 1000);
  const poll = setInterval(reload, 5000);
  return { update: (evs) => { if (evs.some((e) => e.type === 'soft' || e.type === 'reset')) reload(); },
    unmount: () => { clearInterval(tick); clearInterval(poll); } };
}

function num(v) { return v === null || v === undefined ? '–' : String(v); }

function renderPeers(box, peers) {
  if (!peers.length) { fill(box, el('p', { class: 'muted' }, t('no_peers'))); return; }
  const head = ['col_peer', 'col_role', 'col_connected', 'col_last_heard', 'col_we_lack', 'col_it_lacks', 'col_skew'];
  fill(box, el('table', { class: 'peers' }, el('thead', null, el('tr', null, head.map((k, i) => el('th', { class: i >= 4 ? 'num' : null }, t(k))))),
    el('tbody', null, peers.map((p) => {
      const age = typeof p.last_heard_age_s === 'number' ? p.last_heard_age_s : null;
      const cls = !p.connected ? 'down' : age !== null && age > 60 ? 'stale' : 'up';
      return el('tr', { class: 'peer ' + cls, dataset: { name: p.name || '' } },
        el('td', null, p.name || p.endpoint || '?', p.refused_us ? el('div', { class: 'error' }, 'refused us') : null,
          p.revoked ? el('div', { class: 'error' }, 'revoked') : null),
        el('td', null, label('role_', peerRole(p))),
        el('td', null, p.connected ? t('yes') : t('no')),
        el('td', null, age === null ? t('never') : t('ago', { age: fmtAge(age) })),
        el('td', { class: 'num' }, num(p.we_lack)), el('td', { class: 'num' }, num(p.it_lacks)),
        el('td', { class: 'num' }, typeof p.skew_ms === 'number' ? (p.skew_ms / 1000).toFixed(1) + ' s' : '–'));
    }))));
}

// The nodes this node has heard of by any path (GET /api/status nodes[]).
function renderNodes(box, nodes) {
  if (!nodes.length) { fill(box, el('p', { class: 'muted' }, t('no_peers'))); return; }
  const head = ['col_peer', 'col_role', 'col_last_heard'];
  fill(box, el('table', { class: 'peers' }, el('thead', null, el('tr', null, head.map((k) => el('th', null, t(k))))),
    el('tbody', null, nodes.map((n) => {
      const age = typeof n.last_seen_s_ago === 'number' ? n.last_seen_s_ago : null;
      return el('tr', { class: 'peer ' + (age === null || age > 180 ? 'down' : age > 60 ? 'stale' : 'up'), dataset: { name: n.name || '' } },
        el('td', null, n.name || n.key || '?', n.revoked ? el('div', { class: 'error' }, 'revoked') : null),
        el('td', null, label('role_', n.role)),
        el('td', null, age === null ? t('never') : t('ago', { age: fmtAge(age) })));
    }))));
}
