// A tiny element builder: all text goes through textContent, so API data is never parsed as HTML.

/**
 * h('div', {class: 'x', onclick: fn}, 'text', child, [more children])
 * Attributes starting with "on" become listeners; null/false children are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (name === 'class') {
      el.className = value;
    } else if (name === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (value === true) {
      el.setAttribute(name, '');
    } else {
      el.setAttribute(name, String(value));
    }
  }
  appendChildren(el, children);
  return el;
}

function appendChildren(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) appendChildren(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** Formats metres for people: 3.2 m, 48 m, 1.3 km. */
export function formatMetres(m) {
  if (m === null || m === undefined || Number.isNaN(Number(m))) return '—';
  const v = Number(m);
  if (v < 10) return `${v.toFixed(1)} 米`;
  if (v < 1000) return `${Math.round(v)} 米`;
  return `${(v / 1000).toFixed(2)} 公里`;
}

/**
 * Shows an ISO 8601 time as written by the server (Beijing time), without converting it
 * to the browser's zone: a grid worker abroad or a UTC test browser must read the same time.
 */
export function formatTime(iso) {
  if (!iso) return '—';
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(iso);
  if (!m) return iso;
  const zone = m[3];
  if (!zone || zone === '+08:00' || zone === '+0800') return `${m[1]} ${m[2]}`;
  return `${m[1]} ${m[2]} (${zone})`;
}
