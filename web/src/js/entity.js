// One entity: what it is, who owns it, how it relates to the rest of the
// catalog (each relation a link to the related entity's page), and the
// file and line in the config repository that defines it.
import { catalog } from './api.js';
import { errorBox, h } from './dom.js';
import { refLink } from './refs.js';

// Backstage's relation types, read as a sentence about this entity.
const RELATION_LABELS = {
  ownedBy: 'Owned by',
  ownerOf: 'Owner of',
  partOf: 'Part of',
  hasPart: 'Has part',
  dependsOn: 'Depends on',
  dependencyOf: 'Dependency of',
  providesApi: 'Provides API',
  apiProvidedBy: 'API provided by',
  consumesApi: 'Consumes API',
  apiConsumedBy: 'API consumed by',
  memberOf: 'Member of',
  hasMember: 'Has member',
  parentOf: 'Parent of',
  childOf: 'Child of',
};

function section(title, id, ...content) {
  return h('section', { class: 'card', 'aria-labelledby': id }, h('h2', { id }, title), ...content);
}

function definitionList(pairs, { stacked = false } = {}) {
  const items = pairs.filter(([, v]) => v !== undefined && v !== null && v !== '');
  if (!items.length) return h('p', { class: 'muted' }, 'Nothing here.');
  return h(
    'dl',
    { class: stacked ? 'facts facts-stacked' : 'facts' },
    items.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v))),
  );
}

// A spec or annotation value: scalars as text, refs as links where the
// field is one Backstage resolves, anything nested as indented JSON.
function valueEl(value) {
  if (value === null || value === undefined) return h('span', { class: 'muted' }, 'null');
  if (typeof value === 'string') return value.includes('\n') ? h('pre', { class: 'code' }, value) : h('span', {}, value);
  if (typeof value !== 'object') return h('span', {}, String(value));
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object')) {
    return h('ul', { class: 'plain-list' }, value.map((v) => h('li', {}, String(v))));
  }
  if (!Array.isArray(value) && Object.values(value).every((v) => v === null || typeof v !== 'object')) {
    return h('ul', { class: 'plain-list' }, Object.entries(value).map(([k, v]) => h('li', {}, h('span', { class: 'muted' }, `${k}: `), String(v))));
  }
  return h('pre', { class: 'code' }, JSON.stringify(value, null, 2));
}

function tagList(tags) {
  if (!tags?.length) return null;
  return h('ul', { class: 'tags', 'aria-label': 'Tags' }, tags.map((t) => h('li', {}, t)));
}

function relationsSection(entity) {
  const groups = new Map();
  for (const r of entity.relations ?? []) {
    if (!groups.has(r.type)) groups.set(r.type, []);
    groups.get(r.type).push(r.targetRef);
  }
  if (!groups.size) return section('Relations', 'relations-title', h('p', { class: 'muted' }, 'This entity has no relations.'));
  const order = Object.keys(RELATION_LABELS);
  const types = [...groups.keys()].sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99) || a.localeCompare(b));
  return section(
    'Relations',
    'relations-title',
    h(
      'dl',
      { class: 'relations' },
      types.map((type) =>
        h(
          'div',
          { dataset: { relation: type } },
          h('dt', {}, RELATION_LABELS[type] ?? type),
          h('dd', {}, h('ul', { class: 'plain-list' }, groups.get(type).sort().map((ref) => h('li', {}, refLink(ref, { showKind: true }))))),
        ),
      ),
    ),
  );
}

function sourceSection(entity, source) {
  const annotations = entity.metadata.annotations ?? {};
  const location = source?.location ?? annotations['backstage.io/managed-by-location'];
  const where = source?.path ? `${source.path}${source.line ? `:${source.line}` : ''}` : null;
  const provider = source?.provider?.startsWith('central-config:') ? source.provider.slice('central-config:'.length) : null;
  return section(
    'Source',
    'source-title',
    definitionList([
      ['File', where ? h('code', { class: 'source-file' }, where) : null],
      ['Location', location ? h('code', { class: 'wrap' }, location) : null],
      [
        'Provider',
        source?.provider ? (provider ? h('a', { href: `#/sync?provider=${encodeURIComponent(provider)}` }, source.provider) : source.provider) : null,
      ],
    ]),
  );
}

function aboutSection(entity) {
  const m = entity.metadata;
  const s = entity.spec ?? {};
  const ns = m.namespace ?? 'default';
  const refOpt = (kind) => ({ defaultKind: kind, defaultNamespace: ns });
  return section(
    'About',
    'about-title',
    definitionList([
      ['Kind', entity.kind],
      ['Type', s.type],
      ['Lifecycle', s.lifecycle ? h('span', { class: `lifecycle lifecycle-${s.lifecycle}` }, s.lifecycle) : null],
      ['Owner', s.owner ? refLink(s.owner, refOpt('group')) : null],
      ['System', s.system ? refLink(s.system, refOpt('system')) : null],
      ['Domain', s.domain ? refLink(s.domain, refOpt('domain')) : null],
      ['Parent', s.parent ? refLink(s.parent, refOpt('group')) : null],
      ['Namespace', ns],
      ['Tags', tagList(m.tags)],
      ['Labels', m.labels ? h('ul', { class: 'plain-list' }, Object.entries(m.labels).map(([k, v]) => h('li', {}, h('code', {}, `${k}: ${v}`)))) : null],
      ['Email', s.profile?.email ? h('a', { href: `mailto:${s.profile.email}` }, s.profile.email) : null],
    ]),
  );
}

function linksSection(entity) {
  const links = entity.metadata.links ?? [];
  if (!links.length) return null;
  return section(
    'Links',
    'links-title',
    h(
      'ul',
      { class: 'plain-list' },
      links.map((l) => h('li', {}, h('a', { href: l.url, rel: 'noopener noreferrer' }, l.title ?? l.url))),
    ),
  );
}

export async function renderEntity(view, ref) {
  const display = `${ref.kind}:${ref.namespace}/${ref.name}`;
  document.title = `${ref.name} · greenroom`;
  const crumbs = (kind) =>
    h(
      'nav',
      { class: 'breadcrumbs', 'aria-label': 'Breadcrumb' },
      h(
        'ol',
        {},
        h('li', {}, h('a', { href: '#/catalog' }, 'Catalog')),
        h('li', {}, h('a', { href: `#/catalog?kind=${encodeURIComponent(kind.toLowerCase())}` }, kind)),
        h('li', { 'aria-current': 'page' }, ref.name),
      ),
    );
  let entity;
  let source = null;
  try {
    [entity, source] = await Promise.all([catalog.byRef(ref), catalog.source(ref).catch(() => null)]);
  } catch (e) {
    view.append(
      crumbs(ref.kind),
      h('h1', { tabindex: '-1' }, ref.name),
      e.status === 404
        ? h('div', { class: 'notice', role: 'alert' }, `The catalog has no entity ${display}. It may have been removed from the config repository, or its file may have an error: `, h('a', { href: '#/sync' }, 'see the sync status'), '.')
        : errorBox(`The entity could not be read: ${e.message}`),
    );
    return;
  }

  const m = entity.metadata;
  const ns = m.namespace ?? 'default';
  const fullRef = `${entity.kind.toLowerCase()}:${ns}/${m.name}`;
  const heading = m.title ?? entity.spec?.profile?.displayName ?? m.name;
  document.title = `${heading} · greenroom`;
  const spec = entity.spec ?? {};
  view.append(
    crumbs(entity.kind),
    h(
      'header',
      { class: 'entity-header' },
      h('p', { class: 'eyebrow' }, h('span', { class: 'kind-tag' }, entity.kind), spec.type ? ` ${spec.type}` : ''),
      h('h1', { tabindex: '-1' }, heading),
      h('p', { class: 'muted' }, h('code', {}, fullRef)),
      m.description ? h('p', { class: 'lead' }, m.description) : null,
    ),
    h(
      'div',
      { class: 'entity-grid' },
      h('div', { class: 'entity-main' }, aboutSection(entity), relationsSection(entity), linksSection(entity)),
      h(
        'div',
        { class: 'entity-side' },
        sourceSection(entity, source),
        section(
          'Spec',
          'spec-title',
          definitionList(Object.entries(spec).map(([k, v]) => [k, valueEl(v)])),
        ),
        section(
          'Metadata',
          'metadata-title',
          definitionList([
            ['uid', m.uid ? h('code', {}, m.uid) : null],
            ['etag', m.etag ? h('code', { class: 'wrap' }, m.etag) : null],
            ...Object.entries(m.annotations ?? {}).map(([k, v]) => [k, h('code', { class: 'wrap' }, v)]),
          ], { stacked: true }),
        ),
      ),
    ),
    h('details', { class: 'raw' }, h('summary', {}, 'Entity as JSON'), h('pre', { class: 'code' }, JSON.stringify(entity, null, 2))),
  );
}
