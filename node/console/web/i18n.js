// The console's two languages. One message table per language (msg_en.js,
// msg_zh.js, same keys); t() looks a key up in the chosen one and fills
// {name} placeholders. The choice is remembered per browser; the first
// visit follows navigator.language (zh-* → Chinese, else English).
import en from './msg_en.js';
import zh from './msg_zh.js';

const tables = { en, zh };
const listeners = [];
let current = initialLang();

function initialLang() {
  let saved = null;
  try { saved = localStorage.getItem('fm_lang'); } catch (e) { /* private mode */ }
  if (saved === 'en' || saved === 'zh') return saved;
  const nav = (navigator.language || 'en').toLowerCase();
  return nav.startsWith('zh') ? 'zh' : 'en';
}

export function lang() { return current; }

export function setLang(l) {
  if (!tables[l] || l === current) return;
  current = l;
  try { localStorage.setItem('fm_lang', l); } catch (e) { /* private mode */ }
  document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
  listeners.forEach((fn) => fn(l));
}

export function onLangChange(fn) { listeners.push(fn); }

// t('age_min', {n: 3}) → "3 min" / "3 分钟". A missing key shows itself,
// so a gap in a table is visible instead of blank.
export function t(key, vars) {
  let s = tables[current][key];
  if (s === undefined) s = tables.en[key];
  if (s === undefined) return key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

// A label from a key family (stage_, ticket_, role_...) falling back to
// the raw value when the table has none (a new state from a newer node).
export function label(prefix, value) {
  if (value === null || value === undefined || value === '') return '';
  const s = tables[current][prefix + value];
  return s === undefined ? String(value) : s;
}

// An age in seconds for people: "45 s", "12 min", "1 h 05 min", "3 d".
export function fmtAge(sec) {
  if (sec === null || sec === undefined || !isFinite(sec)) return t('never');
  const s = Math.max(0, Math.floor(sec));
  if (s < 60) return t('age_s', { n: s });
  if (s < 3600) return t('age_min', { n: Math.floor(s / 60) });
  if (s < 86400) {
    const m = Math.floor((s % 3600) / 60);
    return t('age_h', { h: Math.floor(s / 3600), m: m < 10 ? '0' + m : m });
  }
  return t('age_d', { n: Math.floor(s / 86400) });
}

document.documentElement.lang = current === 'zh' ? 'zh-CN' : 'en';

// A duration for reports: "1 min 20 s" below ten minutes, else as fmtAge.
export function fmtDur(sec) {
  if (typeof sec !== 'number' || !isFinite(sec)) return '–';
  const s = Math.round(sec);
  if (s >= 60 && s < 600 && s % 60) return t('dur_ms', { m: Math.floor(s / 60), s: s % 60 });
  return fmtAge(s);
}
