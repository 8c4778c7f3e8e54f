// The hash route's parts and query, shared by the router and the pages.

export function parseHash() {
  const hash = location.hash || '#/catalog';
  const [path, search = ''] = hash.slice(1).split('?');
  return { parts: path.split('/').filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(search) };
}

// Pages that only change their own query string (filters, paging) re-render
// themselves and record the new state with this, instead of assigning
// location.hash, so the router does not rebuild the page and take the focus
// away from the control in use.  Back and forward still walk these states.
export function replaceQuery(params, { push = true } = {}) {
  const { parts } = parseHash();
  const search = params.toString();
  const hash = `#/${parts.map(encodeURIComponent).join('/')}${search ? `?${search}` : ''}`;
  if (hash === location.hash) return;
  if (push) history.pushState(null, '', hash);
  else history.replaceState(null, '', hash);
}
