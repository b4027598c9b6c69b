// Building the page without innerHTML. el() makes an element from a tag,
// a few properties and children; strings become text nodes, so whatever a
// caller typed into an incident (a <script>, an <img onerror>) is shown as
// the characters it is, never parsed as markup.

// el('button', {class: 'big', onclick: fn}, 'Ack') → <button class="big">Ack</button>
export function el(tag, props, ...kids) {
  const node = document.createElement(tag);
  if (props) setProps(node, props);
  append(node, kids);
  return node;
}

function setProps(node, props) {
  for (const [k, v] of Object.entries(props)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'value' || k === 'checked' || k === 'selected' || k === 'disabled') node[k] = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
}

// What people read for an incident or ticket: its human code ("K3MX-12",
// docs/console-api.md "Codes"), else its machine id.
export function codeOf(o) {
  return (o && (o.code || o.id)) || '';
}

export function append(node, kids) {
  for (const kid of kids.flat(Infinity)) {
    if (kid === null || kid === undefined || kid === false) continue;
    node.appendChild(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return node;
}

// Replace a node's children.
export function fill(node, ...kids) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return append(node, kids);
}

// Seconds since an ISO-8601 time (null when absent or unreadable).
export function ageOf(iso) {
  if (!iso) return null;
  const ms = Date.parse(iso);
  return isNaN(ms) ? null : (Date.now() - ms) / 1000;
}

// A <select> of [value, label] pairs with one chosen.
export function select(props, options, chosen) {
  return el('select', props, options.map(([v, l]) =>
    el('option', { value: v, selected: String(v) === String(chosen) }, l)));
}

// A message line that says what went wrong in words (the server's own).
export function errorLine(err) {
  return el('p', { class: 'error', role: 'alert' }, String(err && err.message ? err.message : err));
}
