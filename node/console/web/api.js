// The one place the pages talk to the node's HTTP API
// (docs/console-api.md). Every write carries the session's CSRF token;
// errors come back as ApiError with the server's own words and code, and a
// 401 anywhere tells the app to show the login form again.
let csrf = null;
const unauthorizedHandlers = [];

export class ApiError extends Error {
  constructor(message, status, code, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

export function setCsrf(token) { csrf = token; }
export function onUnauthorized(fn) { unauthorizedHandlers.push(fn); }

export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  let res;
  try {
    res = await fetch(path, {
      method, headers, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError('the node does not answer (' + e.message + ')', 0, 'io');
  }
  const data = await readJson(res);
  if (res.ok) return data;
  if (res.status === 401 && path !== '/api/login') unauthorizedHandlers.forEach((fn) => fn());
  const msg = (data && data.error) || (res.status + ' ' + res.statusText);
  throw new ApiError(msg, res.status, data && data.code, data);
}

async function readJson(res) {
  if (res.status === 204) return null;
  const text = await res.text();
  if (!text) return null;
  try { return JSON.parse(text); } catch (e) { return { error: text.slice(0, 200) }; }
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body === undefined ? {} : body);

// Query string from an object, skipping empty values.
export function qs(params) {
  const parts = [];
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === undefined || v === '') continue;
    parts.push(encodeURIComponent(k) + '=' + encodeURIComponent(v));
  }
  return parts.length ? '?' + parts.join('&') : '';
}
