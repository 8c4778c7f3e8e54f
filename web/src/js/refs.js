// Entity references as Backstage writes them: [kind:][namespace/]name.
import { h } from './dom.js';

// Parses a ref; kind and namespace fall back to the defaults given (an
// owner written "payments" is the group default/payments).
export function parseRef(ref, { defaultKind, defaultNamespace = 'default' } = {}) {
  let rest = String(ref);
  let kind = defaultKind;
  const colon = rest.indexOf(':');
  if (colon > 0) {
    kind = rest.slice(0, colon);
    rest = rest.slice(colon + 1);
  }
  let namespace = defaultNamespace;
  const slash = rest.indexOf('/');
  if (slash > 0) {
    namespace = rest.slice(0, slash);
    rest = rest.slice(slash + 1);
  }
  return { kind, namespace, name: rest };
}

export function refOf(entity) {
  const ns = entity.metadata?.namespace ?? 'default';
  return `${entity.kind.toLowerCase()}:${ns}/${entity.metadata.name}`;
}

// The page of an entity: #/entity/<kind>/<namespace>/<name>.
export function entityHash({ kind, namespace, name }) {
  return `#/entity/${[kind.toLowerCase(), namespace, name].map(encodeURIComponent).join('/')}`;
}

// "payments", "system:checkout" or "component:default/x" as a link; the
// namespace shows only when it is not the default one.
export function refLink(ref, options = {}) {
  const parsed = typeof ref === 'string' ? parseRef(ref, options) : ref;
  if (!parsed.kind) return h('span', {}, String(ref));
  const label = parsed.namespace === 'default' ? parsed.name : `${parsed.namespace}/${parsed.name}`;
  // The space keeps the kind a separate word in the link's accessible name.
  const kindLabel = options.showKind ? [h('span', { class: 'kind-tag' }, parsed.kind.toLowerCase()), ' '] : null;
  return h('a', { href: entityHash(parsed), class: 'ref-link' }, kindLabel, label);
}
