// Data most pages need and that changes rarely: the incident categories
// with their Chinese and English labels, the units, the directory. Loaded
// once, reloaded when an event says a unit or the directory changed.
import { get, qs } from './api.js';
import { lang, label } from './i18n.js';

let categories = [];
let units = [];
let directory = null;

export async function loadCategories() {
  try {
    const c = await get('/api/categories');
    categories = Array.isArray(c) ? c : (c && c.categories) || [];
  } catch (e) { /* keep the old list; labels fall back to the id */ }
  return categories;
}

export async function loadUnits() {
  try {
    const u = await get('/api/units');
    units = Array.isArray(u) ? u : (u && u.units) || [];
  } catch (e) { /* keep the old list */ }
  return units;
}

export async function loadDirectory() {
  try { directory = await get('/api/directory'); } catch (e) { /* none published */ }
  return directory;
}

export function getCategories() { return categories; }
// The units on duty: a unit the directory in force no longer lists is
// retired (docs/workflow.md §1c) and is not offered, mapped or listed;
// unitById still names it in the tickets and histories it has.
export function getUnits() { return units.filter((u) => u.directory !== 'retired'); }
export function getDirectory() { return directory; }

// "建筑火灾" / "Building fire"; the id itself for a category the table lacks.
// The node's label first, unless it only repeats the id (a directory
// category the server has no translation for): then the page's own table.
export function categoryLabel(id) {
  const c = categories.find((x) => x.id === id);
  const fromNode = c && (lang() === 'zh' ? c.zh : c.en);
  if (fromNode && fromNode !== id) return fromNode;
  return label('cat_', id) || id || '';
}

export function unitById(id) { return units.find((u) => u.id === id) || null; }

// The unit a node's certificate names, by id, by name or by its stable
// directory id. A station's "dept:D" names no one unit (unit.js offers D's).
export function unitByRef(ref) {
  if (!ref) return null;
  return units.find((u) => u.id === ref) || units.find((u) => u.name === ref) ||
    units.find((u) => u.directory_id === ref) || null;
}

export function unitName(id) {
  const u = unitById(id);
  return u ? u.name : (id || '');
}

// The incident fields under either of their names (the CLI says status
// and description; the console contract stage and text).
export function incStage(inc) { return inc.stage || inc.status || inc.state || ''; }
export function incText(inc) { return inc.text !== undefined ? inc.text : (inc.description || ''); }

// A directory unit's home station [lat, lon] by its name, or null. The
// API lists the directory's units flat (home_lat, home_lon); `directory
// show --json` nests them under departments with `home: [lat, lon]`.
export function homeOf(name) {
  if (!directory) return null;
  const flat = Array.isArray(directory.units) ? directory.units : [];
  const nested = (directory.departments || []).flatMap((d) => d.units || []);
  for (const u of flat.concat(nested)) {
    if (u.name !== name) continue;
    if (typeof u.home_lat === 'number' && typeof u.home_lon === 'number') return [u.home_lat, u.home_lon];
    if (Array.isArray(u.home) && u.home.length === 2) return u.home;
  }
  return null;
}

// Incidents reported from this browser: the board does not announce
// them as new to the person who just typed them.
export const ownReports = new Set();

// Every open incident, page by page (the API gives at most 500 a page);
// stops at `max` so a store gone wild cannot freeze the browser.
export async function openIncidents(max = 2000) {
  const all = [];
  let after = null;
  do {
    const page = await get('/api/incidents' + qs({ state: 'open', limit: 500, after }));
    const list = (page && page.incidents) || [];
    all.push(...list);
    after = page && page.next;
  } while (after && all.length < max);
  return all;
}
