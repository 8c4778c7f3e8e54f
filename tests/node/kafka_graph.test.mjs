// The Kafka topology page in Debian's chromium, driven by playwright-core:
// the graph draws every node and edge the API returns, the topic filter and
// the service filter narrow it, a click on a node opens its details, and
// folding by project shrinks a JulieOps cluster.  Screenshots go to
// GR_ARTIFACT_DIR.
//
// Run by tests/integration/test_kafka_web.sh with:
//   GR_BASE_URL      the running host, synced from the topology it writes
//   GR_ARTIFACT_DIR  where the screenshots go
//   GR_CHROMIUM      the browser binary (Debian's /usr/bin/chromium)
//   GR_BROWSER_PROFILE  a fresh, empty profile directory
// The steps run in order on one page.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const base = process.env.GR_BASE_URL;
const artifacts = process.env.GR_ARTIFACT_DIR;
for (const [name, value] of Object.entries({ GR_BASE_URL: base, GR_ARTIFACT_DIR: artifacts })) {
  if (!value) throw new Error(`${name} must be set (see tests/integration/test_kafka_web.sh)`);
}

let context;
let page;
const problems = [];

async function shot(name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

async function api(path) {
  const response = await page.request.get(`${base}/api/kafka-topology${path}`);
  assert.equal(response.status(), 200, `GET ${path}`);
  return response.json();
}

// Waits for a drawing to finish and returns its node and edge counts.
async function drawn() {
  await page.waitForFunction(() => document.querySelector('#kafka-graph')?.dataset.ready === 'true');
  return page.locator('#kafka-graph').evaluate((el) => ({
    nodes: Number(el.dataset.nodeCount),
    edges: Number(el.dataset.edgeCount),
    ids: el.cy.nodes().map((n) => n.id()).sort(),
  }));
}

// Clicks a node where the canvas draws it, as a person would.
async function clickNode(id) {
  const point = await page.locator('#kafka-graph').evaluate((el, nodeId) => {
    const node = el.cy.getElementById(nodeId);
    el.cy.center(node);
    const p = node.renderedPosition();
    const box = el.getBoundingClientRect();
    return { x: box.left + p.x, y: box.top + p.y };
  }, id);
  await page.mouse.click(point.x, point.y);
}

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  mkdirSync(process.env.GR_BROWSER_PROFILE ?? '', { recursive: true });
  context = await chromium.launchPersistentContext(process.env.GR_BROWSER_PROFILE, {
    executablePath: process.env.GR_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1400, height: 1000 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(20000);
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  // This host runs no central-config provider: the top bar's sync badge
  // asks for its status and gets 404, as it should.  Anything else failing
  // is a problem.
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 404/.test(m.text())) problems.push(`console error: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400 && !r.url().includes('/api/central-config/')) problems.push(`${r.status()} for ${r.url()}`);
  });
});

after(async () => {
  await context?.close();
});

test('the nav shows Kafka and the page draws every node of the busiest cluster', async () => {
  // A page that asks no API: this host runs no catalog.
  await page.goto(`${base}/#/welcome`);
  await page.locator('#nav-kafka:not([hidden])').waitFor();
  await page.getByRole('link', { name: 'Kafka' }).click();
  await page.getByRole('heading', { level: 1, name: 'Kafka topology' }).waitFor();
  // "default" (the JulieOps descriptor) has the most topics.
  assert.equal(await page.getByLabel('Cluster').inputValue(), 'default');
  const g = await drawn();
  const want = await api('/clusters/default/graph');
  assert.equal(g.nodes, want.nodes.length);
  assert.equal(g.edges, want.edges.length);
  assert.deepEqual(g.ids, want.nodes.map((n) => n.data.id).sort());
  assert.match(await page.locator('#k-summary').textContent(), new RegExp(`^${want.nodes.length} nodes and ${want.edges.length} edges shown`));
  await shot('kafka-default');
});

test('choosing a cluster draws its graph', async () => {
  await page.getByLabel('Cluster').selectOption('prod');
  await page.waitForFunction(() => location.hash.includes('cluster=prod'));
  const g = await drawn();
  const want = await api('/clusters/prod/graph');
  assert.equal(g.nodes, want.nodes.length);
  assert.equal(g.edges, want.edges.length);
  assert.deepEqual(g.ids, ['principal:auditor', 'principal:billing', 'principal:orders-api', 'topic:prod/orders', 'topic:prod/payments']);
});

test('a click on a topic opens its details', async () => {
  await clickNode('topic:prod/orders');
  const details = page.locator('#kafka-details');
  await details.getByRole('heading', { name: 'orders' }).waitFor();
  const text = await details.textContent();
  assert.match(text, /Partitions\s*12/);
  assert.match(text, /Replication\s*3/);
  assert.match(text, /plain\/prod\.yaml:8/);
  assert.match(text, /cleanup\.policy\s*compact/);
  assert.deepEqual(await details.locator('h3 + ul button').allTextContents(), ['orders-api', 'billing']);
  await shot('kafka-prod-orders');
  // From the details, on to a consumer.
  await details.getByRole('button', { name: 'billing' }).click();
  await details.getByRole('heading', { name: 'billing' }).waitFor();
  assert.match(await details.textContent(), /Writes \(1\)\s*payments\s*Reads \(1\)\s*orders/);
});

test('the topic filter keeps matching topics and who uses them', async () => {
  await page.getByLabel('Topic', { exact: true }).fill('PAY');
  await page.waitForFunction(() => new URLSearchParams(location.hash.split('?')[1]).get('q') === 'PAY');
  const g = await drawn();
  assert.deepEqual(g.ids, ['principal:auditor', 'principal:billing', 'topic:prod/payments']);
  assert.equal(g.edges, 2);
  assert.match(await page.locator('#k-summary').textContent(), /3 nodes and 2 edges shown \(filtered from 5 nodes\)/);
  // The matches are buttons too: the graph by keyboard.
  await page.locator('#k-matches').getByRole('button', { name: 'payments' }).click();
  await page.locator('#kafka-details').getByRole('heading', { name: 'payments' }).waitFor();
  await page.getByLabel('Topic', { exact: true }).fill('');
  await page.waitForFunction(() => !new URLSearchParams(location.hash.split('?')[1]).has('q'));
  assert.equal((await drawn()).nodes, 5);
});

test('the service filter keeps a service, its topics and their other users', async () => {
  assert.deepEqual(await page.getByLabel('Service').locator('option').allTextContents(), ['All services', 'auditor', 'billing', 'orders-api']);
  await page.getByLabel('Service').selectOption('orders-api');
  const g = await drawn();
  assert.deepEqual(g.ids, ['principal:billing', 'principal:orders-api', 'topic:prod/orders']);
  await page.locator('#kafka-details').getByRole('heading', { name: 'orders-api' }).waitFor();
  await page.getByLabel('Service').selectOption('');
  assert.equal((await drawn()).nodes, 5);
});

test('folding by project shrinks the JulieOps cluster', async () => {
  await page.getByLabel('Cluster').selectOption('default');
  const full = await drawn();
  await page.getByLabel('Topics shown').selectOption('project');
  const folded = await drawn();
  assert.ok(folded.nodes < full.nodes, `${folded.nodes} < ${full.nodes}`);
  assert.ok(folded.ids.includes('group:project:default/projectA'));
  assert.ok(!folded.ids.some((id) => id.startsWith('topic:default/context.company.env.source.projectA.')));
  assert.match(await page.locator('#k-summary').textContent(), /5 topics folded into 3 groups/);
  await clickNode('group:project:default/projectA');
  await page.locator('#kafka-details').getByRole('heading', { name: 'projectA' }).waitFor();
  await shot('kafka-default-by-project');
  // Every cluster at once, folded by cluster.
  await page.getByLabel('Cluster').selectOption('*');
  await page.getByLabel('Topics shown').selectOption('cluster');
  const clusters = await drawn();
  assert.ok(clusters.ids.includes('group:cluster:prod'));
  assert.ok(clusters.ids.includes('group:cluster:default'));
  await shot('kafka-all-by-cluster');
});

test('the page logged no errors', () => {
  assert.deepEqual(problems, []);
});
