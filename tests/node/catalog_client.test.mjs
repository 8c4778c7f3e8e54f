// The official @backstage/catalog-client against a running greenroom host:
// proof that Backstage's own client works unchanged with our catalog API.
//
// Run by tests/integration/test_catalog_client.sh, which starts the host on
// a copy of tests/fixtures/web-catalog/ and passes its address in
// GR_BASE_URL.  Every expectation below is a fact of that fixture (18
// entities; broken.yaml is left out).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CatalogClient, CATALOG_FILTER_EXISTS } from '@backstage/catalog-client';

const base = process.env.GR_BASE_URL;
if (!base) throw new Error('GR_BASE_URL must name the running host, e.g. http://127.0.0.1:7007');

// As a Backstage app wires it: discovery gives the plugin's base URL, and
// the client's own default fetch does the requests.
const client = new CatalogClient({
  discoveryApi: { getBaseUrl: async (pluginId) => `${base}/api/${pluginId}` },
});

const names = (items) => items.map((e) => e?.metadata?.name);
const byName = { field: 'metadata.name', order: 'asc' };

test('getEntities: filter, fields and order', async () => {
  const { items } = await client.getEntities({
    filter: { kind: 'component', 'spec.type': 'service' },
    fields: ['metadata.name', 'spec.owner'],
    order: byName,
  });
  assert.deepEqual(names(items), ['ledger', 'log-shipper', 'payment-service']);
  // Projection keeps exactly the fields asked for.
  assert.deepEqual(items[2], { metadata: { name: 'payment-service' }, spec: { owner: 'payments' } });
});

test('getEntities: several filters are OR-ed, values within one are OR-ed', async () => {
  const { items } = await client.getEntities({
    filter: [{ kind: 'domain' }, { kind: 'api', 'spec.type': ['grpc', 'graphql'] }],
    fields: ['kind', 'metadata.name'],
    order: byName,
  });
  assert.deepEqual(items, [
    { kind: 'Domain', metadata: { name: 'commerce' } },
    { kind: 'API', metadata: { name: 'ledger-api' } },
  ]);
});

test('getEntities: CATALOG_FILTER_EXISTS and relation filters', async () => {
  const tagged = await client.getEntities({
    filter: { kind: 'component', 'metadata.tags': CATALOG_FILTER_EXISTS },
    fields: ['metadata.name'],
    order: byName,
  });
  assert.deepEqual(names(tagged.items), ['build-bot', 'checkout-web', 'log-shipper', 'payment-service']);
  const owned = await client.getEntities({
    filter: { 'relations.ownedBy': 'group:default/platform' },
    fields: ['metadata.name'],
    order: byName,
  });
  // deploy-tool names its owner as a full ref; the relation is the same.
  assert.deepEqual(names(owned.items), ['build-bot', 'deploy-tool', 'log-shipper', 'tooling']);
});

test('getEntities: limit, offset and descending order', async () => {
  const { items } = await client.getEntities({
    filter: { kind: 'user' },
    fields: ['metadata.name'],
    order: { field: 'metadata.name', order: 'desc' },
    limit: 2,
    offset: 1,
  });
  assert.deepEqual(names(items), ['alan.turing', 'ada.lovelace']);
});

test('getEntityByRef: the whole entity with its relations', async () => {
  const e = await client.getEntityByRef('component:default/payment-service');
  assert.ok(e, 'payment-service is found');
  assert.equal(e.apiVersion, 'backstage.io/v1alpha1');
  assert.equal(e.kind, 'Component');
  assert.equal(e.metadata.title, 'Payment service');
  assert.equal(e.metadata.labels.tier, 'critical');
  assert.deepEqual(e.metadata.tags, ['java', 'pci']);
  assert.equal(e.metadata.links[0].title, 'Runbook');
  assert.match(e.metadata.uid, /^[0-9a-f-]{36}$/);
  assert.ok(e.metadata.etag, 'an etag');
  assert.match(e.metadata.annotations['backstage.io/managed-by-location'], /^file:.*\/components\/payments\.yaml$/);
  const rels = e.relations.map((r) => `${r.type} ${r.targetRef}`).sort();
  assert.deepEqual(rels, [
    'dependencyOf component:default/ledger',
    'dependsOn resource:default/payments-db',
    'ownedBy group:default/payments',
    'partOf system:default/checkout',
    'providesApi api:default/payment-api',
  ]);
});

test('getEntityByRef: short refs, compound refs, case and a missing entity', async () => {
  const short = await client.getEntityByRef('component:ledger');
  assert.equal(short?.metadata.name, 'ledger');
  const compound = await client.getEntityByRef({ kind: 'Group', namespace: 'default', name: 'payments' });
  assert.equal(compound?.spec.type, 'team');
  const rels = compound.relations.map((r) => `${r.type} ${r.targetRef}`);
  assert.ok(rels.includes('hasMember user:default/ada.lovelace'), rels.join(', '));
  assert.ok(rels.includes('childOf group:default/engineering'), rels.join(', '));
  const cased = await client.getEntityByRef('API:default/Payment-API');
  assert.equal(cased?.metadata.name, 'payment-api');
  assert.equal(await client.getEntityByRef('component:default/half-written'), undefined);
});

test('queryEntities: cursor paging forwards and back', async () => {
  const first = await client.queryEntities({
    filter: { kind: 'component' },
    orderFields: byName,
    fields: ['metadata.name'],
    limit: 2,
  });
  assert.equal(first.totalItems, 6);
  assert.deepEqual(names(first.items), ['build-bot', 'checkout-web']);
  assert.ok(first.pageInfo.nextCursor, 'a first page of three has a next cursor');
  assert.equal(first.pageInfo.prevCursor, undefined);

  const second = await client.queryEntities({ cursor: first.pageInfo.nextCursor, limit: 2, fields: ['metadata.name'] });
  assert.deepEqual(names(second.items), ['deploy-tool', 'ledger']);
  assert.equal(second.totalItems, 6);
  const third = await client.queryEntities({ cursor: second.pageInfo.nextCursor, limit: 2, fields: ['metadata.name'] });
  assert.deepEqual(names(third.items), ['log-shipper', 'payment-service']);
  assert.equal(third.pageInfo.nextCursor, undefined, 'the last page has no next cursor');
  assert.ok(third.pageInfo.prevCursor, 'the last page has a previous cursor');

  const back = await client.queryEntities({ cursor: third.pageInfo.prevCursor, limit: 2, fields: ['metadata.name'] });
  assert.deepEqual(names(back.items), ['deploy-tool', 'ledger']);
});

test('queryEntities: descending order and fullTextFilter', async () => {
  const desc = await client.queryEntities({
    filter: { kind: 'system' },
    orderFields: { field: 'metadata.name', order: 'desc' },
    fields: ['metadata.name'],
  });
  assert.deepEqual(names(desc.items), ['tooling', 'checkout']);

  const text = await client.queryEntities({
    filter: { kind: ['component', 'api'] },
    fullTextFilter: { term: '  REFUND ', fields: ['metadata.description'] },
    orderFields: byName,
    fields: ['kind', 'metadata.name'],
  });
  assert.deepEqual(names(text.items), ['payment-api', 'payment-service']);
  assert.equal(text.totalItems, 2);

  // The search follows the cursor: the next page keeps the term.
  const paged = await client.queryEntities({
    fullTextFilter: { term: 'payment', fields: ['metadata.name'] },
    orderFields: byName,
    fields: ['metadata.name'],
    limit: 1,
  });
  assert.equal(paged.totalItems, 4);
  assert.deepEqual(names(paged.items), ['payment-api']);
  const rest = await client.queryEntities({ cursor: paged.pageInfo.nextCursor, limit: 3, fields: ['metadata.name'] });
  assert.deepEqual(names(rest.items), ['payment-service', 'payments', 'payments-db']);
  assert.equal(rest.pageInfo.nextCursor, undefined);
});

test('streamEntities pages through everything', async () => {
  const seen = [];
  for await (const page of client.streamEntities({ pageSize: 5, fields: ['metadata.name'] })) seen.push(...names(page));
  assert.equal(seen.length, 18);
  assert.equal(new Set(seen).size, 18);
});

test('getEntitiesByRefs: order kept, missing entities undefined, fields and filter', async () => {
  const { items } = await client.getEntitiesByRefs({
    entityRefs: ['component:default/ledger', 'api:default/missing', 'resource:default/payments-db'],
    fields: ['kind', 'metadata.name'],
  });
  assert.deepEqual(items, [
    { kind: 'Component', metadata: { name: 'ledger' } },
    undefined,
    { kind: 'Resource', metadata: { name: 'payments-db' } },
  ]);
  const filtered = await client.getEntitiesByRefs({
    entityRefs: ['component:default/ledger', 'resource:default/payments-db'],
    filter: { kind: 'component' },
    fields: ['metadata.name'],
  });
  assert.deepEqual(filtered.items, [{ metadata: { name: 'ledger' } }, undefined]);
});

test('getEntityFacets: counts per value, with and without a filter', async () => {
  const { facets } = await client.getEntityFacets({ facets: ['kind', 'spec.lifecycle'] });
  const kinds = Object.fromEntries(facets.kind.map((f) => [f.value, f.count]));
  assert.deepEqual(kinds, { API: 2, Component: 6, Domain: 1, Group: 3, Resource: 1, System: 2, User: 3 });
  const lifecycles = Object.fromEntries(facets['spec.lifecycle'].map((f) => [f.value, f.count]));
  assert.deepEqual(lifecycles, { deprecated: 1, experimental: 2, production: 5 });

  const components = await client.getEntityFacets({ facets: ['spec.type'], filter: { kind: 'component' } });
  const types = Object.fromEntries(components.facets['spec.type'].map((f) => [f.value, f.count]));
  assert.deepEqual(types, { service: 3, tool: 2, website: 1 });
});
