// The web UI's entry point: a hash router over four pages.
//   #/catalog?kind=…&type=…&owner=…&q=…   the catalog table
//   #/entity/<kind>/<namespace>/<name>     one entity
//   #/sync                                 the central-config sync status
//   #/kafka?cluster=…&q=…&service=…        the Kafka topology graph
// Hash routes keep every page one static file: entity names may hold dots,
// which the host's static server would take for file names.
import { renderCatalog } from './catalog.js';
import { renderEntity } from './entity.js';
import { renderKafka } from './kafka.js';
import { renderSync, refreshSyncBadge } from './sync.js';
import { h } from './dom.js';
import { parseHash } from './router.js';

const main = document.getElementById('main');
let current = null; // the page's teardown, if it has one

function setNav(section) {
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

async function route({ focus = true } = {}) {
  // Links such as the skip link ("#main") are not routes.
  if (location.hash && !location.hash.startsWith('#/')) return;
  const { parts, params } = parseHash();
  const [page, ...rest] = parts;
  if (typeof current === 'function') current();
  current = null;
  // Each route renders into its own element: a slow page that finishes
  // after the user moved on writes into a detached element, not over the
  // page now shown.
  const view = h('div', { class: 'view' });
  main.replaceChildren(view);
  main.setAttribute('aria-busy', 'true');
  let teardown = null;
  try {
    if (!page || page === 'catalog') {
      setNav('catalog');
      teardown = await renderCatalog(view, params);
    } else if (page === 'entity' && rest.length === 3) {
      setNav('catalog');
      await renderEntity(view, { kind: rest[0], namespace: rest[1], name: rest[2] });
    } else if (page === 'sync') {
      setNav('sync');
      teardown = await renderSync(view, params);
    } else if (page === 'kafka') {
      setNav('kafka');
      teardown = await renderKafka(view, params);
    } else {
      setNav(null);
      document.title = 'Not found · greenroom';
      view.append(
        h('h1', { tabindex: '-1' }, 'Page not found'),
        h('p', {}, 'There is no page at ', h('code', {}, location.hash), '. ', h('a', { href: '#/catalog' }, 'Go to the catalog'), '.'),
      );
    }
  } catch (e) {
    view.append(h('div', { class: 'notice notice-error', role: 'alert' }, `This page failed: ${e.message}`));
  }
  if (!view.isConnected) {
    if (typeof teardown === 'function') teardown();
    return;
  }
  current = teardown;
  main.removeAttribute('aria-busy');
  // Moving focus to the new page's heading tells keyboard and screen-reader
  // users that the page changed, as a full page load would.
  if (focus) view.querySelector('h1')?.focus();
}

// A link, Back and Forward all change the hash: one event covers them.
window.addEventListener('hashchange', () => route());
route({ focus: false });
refreshSyncBadge();
showKafkaNav();

// The Kafka link shows only on hosts that run the kafka-topology plugin.
async function showKafkaNav() {
  try {
    const response = await fetch('/api/kafka-topology/status', { headers: { Accept: 'application/json' } });
    if (response.ok) document.getElementById('nav-kafka').hidden = false;
  } catch {
    // No host answering: the pages say so themselves.
  }
}
