// The catalog table: filters from /entity-facets, rows and cursor paging
// from /entities/by-query.  The page's state lives in the URL's query, so a
// filtered view can be bookmarked and Back walks through earlier views.
import { catalog } from './api.js';
import { announce, errorBox, h } from './dom.js';
import { entityHash, refLink } from './refs.js';
import { replaceQuery } from './router.js';

const PAGE_SIZES = [10, 20, 50, 100];
const DEFAULT_SIZE = 20;

// What one row shows, and what the search looks through.
const FIELDS = [
  'kind',
  'metadata.name',
  'metadata.namespace',
  'metadata.title',
  'metadata.description',
  'metadata.tags',
  'spec.type',
  'spec.owner',
  'spec.system',
  'spec.lifecycle',
  'spec.profile.displayName',
];
const SEARCH_FIELDS = ['metadata.name', 'metadata.title', 'metadata.description', 'metadata.tags', 'spec.type', 'spec.owner', 'spec.system', 'kind'];

const COLUMNS = [
  { label: 'Name', sort: 'metadata.name' },
  { label: 'Kind', sort: 'kind' },
  { label: 'Type', sort: 'spec.type' },
  { label: 'Owner', sort: 'spec.owner' },
  { label: 'System', sort: 'spec.system' },
  { label: 'Lifecycle', sort: 'spec.lifecycle' },
  { label: 'Description' },
  { label: 'Tags' },
];

function readState(params) {
  const size = Number(params.get('size'));
  return {
    q: params.get('q') ?? '',
    kind: params.get('kind') ?? '',
    type: params.get('type') ?? '',
    owner: params.get('owner') ?? '',
    sort: params.get('sort') ?? 'metadata.name',
    dir: params.get('dir') === 'desc' ? 'desc' : 'asc',
    size: PAGE_SIZES.includes(size) ? size : DEFAULT_SIZE,
    cursor: params.get('cursor') ?? '',
    page: Math.max(1, Number(params.get('page')) || 1),
  };
}

function writeState(state) {
  const p = new URLSearchParams();
  for (const key of ['q', 'kind', 'type', 'owner']) if (state[key]) p.set(key, state[key]);
  if (state.sort !== 'metadata.name' || state.dir !== 'asc') {
    p.set('sort', state.sort);
    p.set('dir', state.dir);
  }
  if (state.size !== DEFAULT_SIZE) p.set('size', String(state.size));
  if (state.cursor) {
    p.set('cursor', state.cursor);
    p.set('page', String(state.page));
  }
  return p;
}

function facetSelect(id, label, allLabel) {
  const select = h('select', { id, name: id.replace(/^f-/, '') });
  return {
    select,
    field: h('div', { class: 'field' }, h('label', { for: id }, label), select),
    fill(values, selected) {
      const options = [h('option', { value: '' }, allLabel)];
      const seen = new Set();
      for (const { value, count } of values) {
        seen.add(value.toLowerCase());
        options.push(h('option', { value, selected: value.toLowerCase() === selected.toLowerCase() }, `${value} (${count})`));
      }
      // A value from the URL that no entity has any more stays selectable,
      // so the view explains its empty table instead of silently changing.
      if (selected && !seen.has(selected.toLowerCase())) options.push(h('option', { value: selected, selected: true }, `${selected} (0)`));
      select.replaceChildren(...options);
    },
  };
}

function tagList(tags) {
  if (!tags?.length) return null;
  return h('ul', { class: 'tags', 'aria-label': 'Tags' }, tags.map((t) => h('li', {}, t)));
}

// A title, or a person's display name, when it says more than the name.
function subtitle(entity) {
  const text = entity.metadata?.title ?? entity.spec?.profile?.displayName;
  return text && text !== entity.metadata.name ? text : null;
}

function row(entity) {
  const m = entity.metadata ?? {};
  const s = entity.spec ?? {};
  const ns = m.namespace ?? 'default';
  const label = ns === 'default' ? m.name : `${ns}/${m.name}`;
  return h(
    'tr',
    {},
    h(
      'th',
      { scope: 'row', class: 'nowrap' },
      h('a', { href: entityHash({ kind: entity.kind, namespace: ns, name: m.name }), class: 'entity-link' }, label),
      subtitle(entity) ? h('div', { class: 'subtitle' }, subtitle(entity)) : null,
    ),
    h('td', { class: 'nowrap' }, h('span', { class: 'kind-tag' }, entity.kind)),
    h('td', { class: 'nowrap' }, s.type ?? ''),
    h('td', { class: 'nowrap' }, s.owner ? refLink(s.owner, { defaultKind: 'group', defaultNamespace: ns }) : ''),
    h('td', { class: 'nowrap' }, s.system ? refLink(s.system, { defaultKind: 'system', defaultNamespace: ns }) : ''),
    h('td', {}, s.lifecycle ? h('span', { class: `lifecycle lifecycle-${s.lifecycle}` }, s.lifecycle) : ''),
    h('td', { class: 'description' }, m.description ?? ''),
    h('td', {}, tagList(m.tags)),
  );
}

export async function renderCatalog(view, params) {
  let state = readState(params);
  let loadToken = 0;
  let searchTimer = null;
  document.title = 'Catalog · greenroom';

  const search = h('input', {
    type: 'search',
    id: 'f-q',
    name: 'q',
    value: state.q,
    placeholder: 'Name, description, tag…',
    autocomplete: 'off',
    'aria-describedby': 'f-q-help',
  });
  const kind = facetSelect('f-kind', 'Kind', 'All kinds');
  const type = facetSelect('f-type', 'Type', 'All types');
  const owner = facetSelect('f-owner', 'Owner', 'All owners');
  const clearButton = h('button', { type: 'button', class: 'button secondary' }, 'Clear filters');
  const caption = h('caption', { id: 'catalog-caption' }, 'Loading entities…');
  const headRow = h('tr');
  const tbody = h('tbody');
  const table = h('table', { class: 'catalog-table' }, caption, h('thead', {}, headRow), tbody);
  const message = h('div', { class: 'table-message' });
  const prev = h('button', { type: 'button', class: 'button secondary' }, '← Previous');
  const next = h('button', { type: 'button', class: 'button secondary' }, 'Next →');
  const pageLabel = h('span', { class: 'page-label' });
  const sizeSelect = h(
    'select',
    { id: 'f-size' },
    PAGE_SIZES.map((n) => h('option', { value: n, selected: n === state.size }, String(n))),
  );
  let pageInfo = {};

  view.append(
    h('h1', { tabindex: '-1' }, 'Catalog'),
    h('p', { class: 'lead' }, 'Every service, API, team and resource the central config repository describes.'),
    h(
      'form',
      { class: 'filters', role: 'search', 'aria-label': 'Filter the catalog', onsubmit: (e) => e.preventDefault() },
      h('div', { class: 'field field-grow' }, h('label', { for: 'f-q' }, 'Search'), search, h('span', { id: 'f-q-help', class: 'visually-hidden' }, 'Results update as you type.')),
      kind.field,
      type.field,
      owner.field,
      h('div', { class: 'field field-button' }, clearButton),
    ),
    h('div', { class: 'table-wrap', role: 'region', 'aria-labelledby': 'catalog-caption', tabindex: '0' }, table),
    message,
    h(
      'nav',
      { class: 'pager', 'aria-label': 'Catalog pages' },
      prev,
      pageLabel,
      next,
      h('span', { class: 'pager-size' }, h('label', { for: 'f-size' }, 'Rows per page'), sizeSelect),
    ),
  );

  function renderHead() {
    headRow.replaceChildren(
      ...COLUMNS.map((col) => {
        if (!col.sort) return h('th', { scope: 'col' }, col.label);
        const active = state.sort === col.sort;
        const dir = active ? state.dir : null;
        const button = h(
          'button',
          {
            type: 'button',
            class: 'sort-button',
            onclick: () => {
              const nextDir = active && state.dir === 'asc' ? 'desc' : 'asc';
              update({ sort: col.sort, dir: nextDir });
            },
          },
          col.label,
          h('span', { class: 'sort-mark', 'aria-hidden': 'true' }, dir === 'asc' ? '▲' : dir === 'desc' ? '▼' : '↕'),
        );
        return h('th', { scope: 'col', 'aria-sort': dir ? (dir === 'asc' ? 'ascending' : 'descending') : null }, button);
      }),
    );
  }

  // Any change of filter, search, order or page size starts again at page 1.
  function update(changes, { push = true } = {}) {
    state = { ...state, ...changes, cursor: changes.cursor ?? '', page: changes.page ?? 1 };
    replaceQuery(writeState(state), { push });
    load();
  }

  async function loadFacets(token) {
    const kindFilter = state.kind ? { kind: state.kind } : {};
    const [all, within] = await Promise.all([catalog.facets(['kind']), catalog.facets(['spec.type', 'spec.owner'], kindFilter)]);
    if (token !== loadToken) return;
    kind.fill(all.facets.kind ?? [], state.kind);
    type.fill(within.facets['spec.type'] ?? [], state.type);
    owner.fill(within.facets['spec.owner'] ?? [], state.owner);
  }

  async function loadPage(token) {
    const filter = { kind: state.kind, 'spec.type': state.type, 'spec.owner': state.owner };
    const page = await catalog.query({
      filter,
      fields: FIELDS,
      orderField: `${state.sort},${state.dir}`,
      term: state.q.trim(),
      termFields: SEARCH_FIELDS,
      limit: state.size,
      cursor: state.cursor,
    });
    if (token !== loadToken) return;
    pageInfo = page.pageInfo ?? {};
    const total = page.totalItems ?? page.items.length;
    const first = (state.page - 1) * state.size + 1;
    const last = first + page.items.length - 1;
    const pages = Math.max(1, Math.ceil(total / state.size));
    tbody.replaceChildren(...page.items.map(row));
    caption.textContent = page.items.length ? `Entities ${first}–${last} of ${total}` : 'No entities';
    message.replaceChildren();
    if (!page.items.length) {
      message.append(
        h('p', {}, state.q || state.kind || state.type || state.owner ? 'No entity matches these filters. ' : 'The catalog is empty: no provider has synced any entity yet. ', state.q || state.kind || state.type || state.owner ? h('button', { type: 'button', class: 'link-button', onclick: clearAll }, 'Clear the filters') : h('a', { href: '#/sync' }, 'See the sync status')),
      );
    }
    pageLabel.textContent = `Page ${state.page} of ${pages}`;
    prev.disabled = !pageInfo.prevCursor;
    next.disabled = !pageInfo.nextCursor;
    clearButton.disabled = !(state.q || state.kind || state.type || state.owner);
    announce(page.items.length ? `${total} entities, page ${state.page} of ${pages}` : 'No entities match');
  }

  async function load() {
    const token = ++loadToken;
    renderHead();
    table.setAttribute('aria-busy', 'true');
    try {
      await Promise.all([loadFacets(token), loadPage(token)]);
    } catch (e) {
      if (token !== loadToken) return;
      tbody.replaceChildren();
      caption.textContent = 'Entities could not be loaded';
      message.replaceChildren(errorBox(`The catalog could not be read: ${e.message}`));
    } finally {
      if (token === loadToken) table.removeAttribute('aria-busy');
    }
  }

  function clearAll() {
    search.value = '';
    update({ q: '', kind: '', type: '', owner: '' });
    search.focus();
  }

  search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    // Typing refines one view: it replaces the history entry, not piles up.
    searchTimer = setTimeout(() => update({ q: search.value }, { push: false }), 250);
  });
  search.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      clearTimeout(searchTimer);
      update({ q: search.value });
    }
  });
  kind.select.addEventListener('change', () => update({ kind: kind.select.value, type: '', owner: '' }));
  type.select.addEventListener('change', () => update({ type: type.select.value }));
  owner.select.addEventListener('change', () => update({ owner: owner.select.value }));
  sizeSelect.addEventListener('change', () => update({ size: Number(sizeSelect.value) }));
  clearButton.addEventListener('click', clearAll);
  prev.addEventListener('click', () => update({ cursor: pageInfo.prevCursor, page: Math.max(1, state.page - 1) }));
  next.addEventListener('click', () => update({ cursor: pageInfo.nextCursor, page: state.page + 1 }));

  await load();
  return () => clearTimeout(searchTimer);
}
