// Shared helpers of the regenpath web app: DOM building, API calls, the
// navigation. The app renders what the server answers; it computes no
// clinical logic of its own (docs/web-app.md).

// el('p', {class: 'x'}, 'text', child...) -> an element. Strings become text
// nodes (never HTML), so nothing from the data can inject markup.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

export function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null) node.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// The diagnostics of an OperationOutcome, else the text.
function errorText(text) {
  try {
    const body = JSON.parse(text);
    if (body.resourceType === 'OperationOutcome') {
      return (body.issue || []).map((i) => i.diagnostics || i.code).join('; ');
    }
  } catch (e) { /* not JSON */ }
  return text.slice(0, 300);
}

// The CSRF token of a SMART session (from /api/session), sent on every write.
let csrfToken = null;

export async function api(path, { method = 'GET', body, type = 'application/json' } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = type;
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const response = await fetch(path, { method, headers, body, credentials: 'same-origin', cache: 'no-store' });
  const text = await response.text();
  if (!response.ok) throw new ApiError(response.status, `${response.status}: ${errorText(text)}`);
  return text ? JSON.parse(text) : null;
}

export function showError(container, error) {
  container.replaceChildren(el('p', { class: 'error', role: 'alert' }, String(error.message || error)));
}

// Words for the knowledge base's ids ("regenerative-candidate" -> "regenerative candidate").
export function words(id) {
  return String(id ?? '').replace(/[-_]/g, ' ');
}

export function fmt(value, digits = 2) {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  return Number(value).toFixed(digits).replace(/\.?0+$/, '');
}

export function pct(value) {
  if (value === null || value === undefined) return '—';
  return `${(100 * value).toFixed(1)} %`;
}

// Session state kept in the tab only (sessionStorage): never in URLs.
export const session = {
  get(key) {
    try { return JSON.parse(sessionStorage.getItem(`regenpath.${key}`)); } catch (e) { return null; }
  },
  set(key, value) {
    try { sessionStorage.setItem(`regenpath.${key}`, JSON.stringify(value)); } catch (e) { /* quota: kept in memory only */ }
  },
};

// Marks the current page in the navigation and shows the server's mode.
export async function initPage() {
  const here = document.body.dataset.page;
  for (const link of document.querySelectorAll('nav.site a')) {
    if (link.dataset.page === here) link.setAttribute('aria-current', 'page');
  }
  const badge = document.getElementById('mode');
  try {
    const info = await api('/api/session');
    csrfToken = info.csrf_token || null;
    if (badge) {
      badge.textContent = info.mode === 'smart' ? `Signed in as ${info.user}`
        : info.mode === 'insecure-dev' ? 'Demo mode (no authentication, loopback only)'
          : 'Not signed in: launch the app from the EHR';
    }
    return info;
  } catch (error) {
    if (badge) badge.textContent = `Not signed in (${error.status || 'offline'})`;
    return { mode: 'unknown' };
  }
}

// A definition list from [term, value] pairs, skipping empty values.
export function defs(pairs) {
  const list = el('dl', { class: 'defs' });
  for (const [term, value] of pairs) {
    if (value === undefined || value === null || value === '' || (Array.isArray(value) && !value.length)) continue;
    list.append(el('dt', {}, term), el('dd', {}, value));
  }
  return list;
}
