// Small DOM helpers shared by the pages.  Everything that comes from the
// API goes into the page as text nodes or attribute values, never as HTML.

// h('a', { href: '#/x', class: 'link' }, 'text', child, [more, children])
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

// Tells screen-reader users what changed without moving their focus.
export function announce(message) {
  const live = document.getElementById('announcer');
  live.textContent = '';
  // A fresh node after a tick, so the same message twice is read twice.
  setTimeout(() => {
    live.textContent = message;
  }, 30);
}

export function errorBox(message) {
  return h('div', { class: 'notice notice-error', role: 'alert' }, message);
}

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const absolute = new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'medium' });

// "5 minutes ago" / "in 25 minutes".
export function fromNow(iso, now = Date.now()) {
  const diff = (new Date(iso).getTime() - now) / 1000;
  const units = [
    ['day', 86400],
    ['hour', 3600],
    ['minute', 60],
  ];
  for (const [unit, seconds] of units) {
    if (Math.abs(diff) >= seconds) return relative.format(Math.round(diff / seconds), unit);
  }
  return Math.abs(diff) < 10 ? 'just now' : relative.format(Math.round(diff), 'second');
}

// A <time> element: relative text, the exact time on hover and for tools.
export function timeEl(iso) {
  if (!iso) return h('span', { class: 'muted' }, 'never');
  const date = new Date(iso);
  return h('time', { datetime: iso, title: absolute.format(date) }, `${fromNow(iso)} (${absolute.format(date)})`);
}

export function duration(ms) {
  if (ms === undefined || ms === null) return '–';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
}

export function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}
