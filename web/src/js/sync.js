// The sync-status panel: for every central-config provider, its last run
// (when, how long, what changed), the next scheduled run, the files that
// failed with their path:line:col, and a button that runs the sync now and
// shows its result.  Plus the small badge in the top bar.
import { centralConfig } from './api.js';
import { announce, duration, errorBox, fromNow, h, plural, timeEl } from './dom.js';

const POLL_MS = 500;
const POLL_LIMIT_MS = 10 * 60 * 1000;

function statusOf(doc) {
  if (doc.running) return { label: 'Running', cls: 'running' };
  if (doc.status === 'failed') return { label: 'Failed', cls: 'failed' };
  if (doc.status === 'pending') return { label: 'Not run yet', cls: 'pending' };
  if (doc.counts?.errors) return { label: `Succeeded with ${plural(doc.counts.errors, 'file error')}`, cls: 'warning' };
  return { label: 'Succeeded', cls: 'ok' };
}

function sourceText(source = {}) {
  if (source.type === 'directory') return `directory ${source.path}`;
  if (source.type === 'git') return `git ${source.url}${source.branch ? ` (${source.branch})` : ''}`;
  if (source.type === 'github') return `GitHub ${source.repo ?? ''}${source.branch ? ` (${source.branch})` : ''}`;
  return source.type ?? 'unknown source';
}

function countsList(counts = {}) {
  const names = ['added', 'updated', 'removed', 'unchanged', 'errors'];
  return h(
    'ul',
    { class: 'counts', 'aria-label': 'Changes in the last run' },
    names.map((n) => {
      const count = counts[n] ?? 0;
      const label = n === 'errors' ? (count === 1 ? 'file error' : 'file errors') : n;
      return h('li', { class: n === 'errors' && count ? 'has-errors' : null }, h('span', { class: 'count' }, String(count)), ` ${label}`);
    }),
  );
}

function errorsTable(doc, id) {
  const errors = doc.errors ?? [];
  if (!errors.length) return h('p', { class: 'muted' }, doc.status === 'pending' ? 'No run yet.' : 'Every file was read without error.');
  return h(
    'div',
    { class: 'table-wrap', role: 'region', 'aria-labelledby': `${id}-errors`, tabindex: '0' },
    h(
      'table',
      { class: 'errors-table' },
      h('caption', { id: `${id}-errors` }, `${plural(errors.length, 'file error')} in the last run`),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Where'), h('th', { scope: 'col' }, 'Problem'))),
      h(
        'tbody',
        {},
        errors.map((e) => h('tr', {}, h('td', {}, h('code', { class: 'where' }, e.where ?? e.path)), h('td', {}, e.message))),
      ),
    ),
    doc.errorsOmitted ? h('p', { class: 'muted' }, `…and ${plural(doc.errorsOmitted, 'more error')} not listed.`) : null,
  );
}

function providerBody(doc, id) {
  const status = statusOf(doc);
  return [
    h('p', { class: 'status-line' }, h('span', { class: `status status-${status.cls}` }, status.label), ' ', h('span', { class: 'muted' }, sourceText(doc.source))),
    doc.error ? errorBox(`The last run failed: ${doc.error}`) : null,
    h(
      'dl',
      { class: 'facts facts-wide' },
      [
        ['Last success', timeEl(doc.lastSuccess)],
        ['Last attempt', timeEl(doc.lastAttempt)],
        ['Duration', duration(doc.durationMs)],
        ['Next run', doc.running ? 'running now' : doc.nextRunAt ? timeEl(doc.nextRunAt) : 'not scheduled'],
        ['Read', doc.files !== undefined ? `${plural(doc.entities ?? 0, 'entity', 'entities')} from ${plural(doc.files, 'file')}` : '–'],
        doc.source?.revision ? ['Revision', h('code', {}, doc.source.revision)] : null,
      ]
        .filter(Boolean)
        .map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v))),
    ),
    countsList(doc.counts),
    h('h3', {}, 'File errors'),
    errorsTable(doc, id),
  ];
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function providerCard(initial, state) {
  const id = `provider-${initial.providerId.replace(/[^A-Za-z0-9_-]/g, '-')}`;
  const body = h('div', { class: 'provider-body' }, providerBody(initial, id));
  const result = h('p', { class: 'refresh-result', role: 'status' });
  const button = h('button', { type: 'button', class: 'button', 'aria-describedby': `${id}-title` }, 'Refresh now');
  const card = h(
    'section',
    { class: 'card provider', id, 'aria-labelledby': `${id}-title`, dataset: { provider: initial.providerId } },
    h('div', { class: 'card-head' }, h('h2', { id: `${id}-title` }, initial.providerId), button),
    result,
    body,
  );
  let doc = initial;

  button.addEventListener('click', async () => {
    const before = doc.lastAttempt;
    button.disabled = true;
    button.textContent = 'Syncing…';
    card.setAttribute('aria-busy', 'true');
    result.className = 'refresh-result';
    result.textContent = `Sync of ${doc.providerId} started…`;
    try {
      await centralConfig.refresh(doc.providerId);
      const started = Date.now();
      for (;;) {
        await sleep(POLL_MS);
        if (state.closed) return;
        const now = await centralConfig.lastSync(doc.providerId);
        if (!now.running && now.lastAttempt && now.lastAttempt !== before) {
          doc = now;
          break;
        }
        if (Date.now() - started > POLL_LIMIT_MS) throw new Error('the sync is still running; this page stopped waiting for it');
      }
      body.replaceChildren(...providerBody(doc, id).filter(Boolean));
      const errors = doc.counts?.errors ?? 0;
      const summary =
        doc.status === 'succeeded'
          ? `Sync finished ${fromNow(doc.lastAttempt)}: ${plural(doc.entities ?? 0, 'entity', 'entities')}, ${doc.counts.added} added, ${doc.counts.updated} updated, ${doc.counts.removed} removed, ${plural(errors, 'file error')}.`
          : `Sync failed: ${doc.error ?? 'see the errors below'}.`;
      result.className = `refresh-result ${doc.status === 'succeeded' && !errors ? 'ok' : 'warning'}`;
      result.textContent = summary;
      announce(summary);
      refreshSyncBadge();
    } catch (e) {
      result.className = 'refresh-result warning';
      result.textContent = `Refresh failed: ${e.message}`;
    } finally {
      button.disabled = false;
      button.textContent = 'Refresh now';
      card.removeAttribute('aria-busy');
    }
  });
  return card;
}

export async function renderSync(view, params) {
  document.title = 'Sync status · greenroom';
  const state = { closed: false };
  view.append(
    h('h1', { tabindex: '-1' }, 'Sync status'),
    h('p', { class: 'lead' }, 'How each central-config provider last read its config repository into the catalog. A file with an error is skipped; the rest of the sync still applies.'),
  );
  let status;
  try {
    status = await centralConfig.status();
  } catch (e) {
    view.append(e.status === 404 ? h('div', { class: 'notice' }, e.message) : errorBox(`The sync status could not be read: ${e.message}`));
    return () => {};
  }
  const providers = status.providers ?? [];
  if (!providers.length) view.append(h('div', { class: 'notice' }, 'No central-config provider is configured.'));
  for (const doc of providers) view.append(providerCard(doc, state));
  const wanted = params.get('provider');
  if (wanted) {
    const card = view.querySelector(`[data-provider="${CSS.escape(wanted)}"]`);
    card?.classList.add('highlight');
    requestAnimationFrame(() => card?.scrollIntoView({ block: 'start' }));
  }
  return () => {
    state.closed = true;
  };
}

// The top bar's one-line summary of every provider, linking to the panel.
export async function refreshSyncBadge() {
  const badge = document.getElementById('sync-badge');
  let providers;
  try {
    providers = (await centralConfig.status()).providers ?? [];
  } catch {
    badge.hidden = true;
    return;
  }
  if (!providers.length) {
    badge.hidden = true;
    return;
  }
  const failed = providers.filter((p) => p.status === 'failed').length;
  const errors = providers.reduce((n, p) => n + (p.counts?.errors ?? 0), 0);
  const pending = providers.filter((p) => p.status === 'pending').length;
  const successes = providers.map((p) => p.lastSuccess).filter(Boolean).sort();
  let text;
  let cls;
  if (failed) {
    text = `Sync failed (${plural(failed, 'provider')})`;
    cls = 'failed';
  } else if (errors) {
    text = `Synced with ${plural(errors, 'file error')}`;
    cls = 'warning';
  } else if (pending === providers.length) {
    text = 'Not synced yet';
    cls = 'pending';
  } else {
    text = `Synced ${fromNow(successes.at(-1))}`;
    cls = 'ok';
  }
  badge.textContent = text;
  badge.className = `sync-badge status-${cls}`;
  badge.setAttribute('aria-label', `Sync status: ${text}`);
  badge.hidden = false;
}
