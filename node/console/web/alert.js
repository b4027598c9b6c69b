// Alerts a dispatcher cannot miss: a tone through Web Audio, a count in
// the tab title and a banner. Browsers keep audio off until the person has
// clicked something, so the banner offers a button that turns sound on
// when it is still off. Each page raises its own alerts under a key
// ('late', 'new', 'ticket') and clears them when resolved.
import { el, fill } from './dom.js';
import { t } from './i18n.js';

const active = new Map();          // key → {text, loud}
let audio = null;
let loudTimer = null;
let baseTitle = document.title;

// Counters a test (or a curious admin in the devtools) can read.
export const stats = { tones: 0, raised: 0 };

export function setBaseTitle(s) { baseTitle = s; render(); } // also redraws in a new language

// Call from a click handler: creating or resuming the context needs one.
export function unlockAudio() {
  try {
    if (!audio) audio = new (window.AudioContext || window.webkitAudioContext)();
    if (audio.state === 'suspended') audio.resume();
  } catch (e) { audio = null; }
  render();
}

function soundOn() { return audio && audio.state === 'running'; }

// Two short tones, high then low: distinct from a browser's own sounds.
export function tone() {
  stats.tones++;
  if (!soundOn()) return;
  const now = audio.currentTime;
  [[880, 0], [660, 0.25]].forEach(([hz, at]) => {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = hz;
    gain.gain.setValueAtTime(0.4, now + at);
    gain.gain.exponentialRampToValueAtTime(0.001, now + at + 0.22);
    osc.connect(gain).connect(audio.destination);
    osc.start(now + at);
    osc.stop(now + at + 0.23);
  });
}

// raise('late', 'alert_late', {n: 2}, {loud}) shows the message (drawn
// again in the new language when it changes); a loud alert repeats its
// tone every 2 s until cleared (a crew's new ticket); others sound once.
export function raise(key, msg, vars, opts) {
  const text = () => t(msg, vars);
  const loud = !!(opts && opts.loud);
  const isNew = !active.has(key) || (opts && opts.again);
  active.set(key, { text, loud, dismiss: !!(opts && opts.dismiss), link: opts && opts.link });
  if (isNew) { stats.raised++; tone(); }
  schedule();
  render();
}

export function clear(key) {
  if (!active.delete(key)) return;
  schedule();
  render();
}

export function isRaised(key) { return active.has(key); }

function schedule() {
  const loud = [...active.values()].some((a) => a.loud);
  if (loud && !loudTimer) loudTimer = setInterval(tone, 2000);
  if (!loud && loudTimer) { clearInterval(loudTimer); loudTimer = null; }
}

function render() {
  const n = active.size;
  document.title = n ? '(' + n + ') ' + baseTitle : baseTitle;
  const box = document.getElementById('alert-banner');
  if (!box) return;
  box.hidden = n === 0;
  fill(box, [...active.entries()].map(([key, a]) =>
    el('div', { class: 'alert-line' + (a.loud ? ' loud' : ''), dataset: { alert: key } },
      a.link ? el('a', { href: a.link }, a.text()) : a.text(),
      a.dismiss ? el('button', { type: 'button', class: 'dismiss', onclick: () => clear(key) }, t('alert_dismiss')) : null)));
  if (n && !soundOn()) {
    box.appendChild(el('button', { class: 'sound-btn', type: 'button', onclick: unlockAudio },
      t('alert_sound_off')));
  }
}
