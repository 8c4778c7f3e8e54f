// The web UI in Debian's chromium, driven by playwright-core, as a person
// would use it: the catalog table (filters, search, paging, sorting), an
// entity page (relations as links, source file:line), and the sync-status
// panel (a file error with its position, the refresh button).
//
// Run by tests/integration/test_web_ui.sh with:
//   GR_BASE_URL      the running host, synced from a copy of tests/fixtures/web-catalog
//   GR_CONFIG_REPO   that copy, which the refresh step repairs
//   GR_ARTIFACT_DIR  where the screenshots go
//   GR_CHROMIUM      the browser binary (Debian's /usr/bin/chromium)
//   GR_BROWSER_PROFILE  a fresh, empty profile directory
// The steps run in order on one page; each leaves it where the next begins.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const base = process.env.GR_BASE_URL;
const repo = process.env.GR_CONFIG_REPO;
const artifacts = process.env.GR_ARTIFACT_DIR;
for (const [name, value] of Object.entries({ GR_BASE_URL: base, GR_CONFIG_REPO: repo, GR_ARTIFACT_DIR: artifacts })) {
  if (!value) throw new Error(`${name} must be set (see tests/integration/test_web_ui.sh)`);
}

let context;
let page;
const problems = []; // uncaught page errors and console errors

async function shot(name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

const rowNames = () => page.locator('table.catalog-table tbody th a').allTextContents();
const caption = () => page.locator('table.catalog-table caption');

// Waits until the table shows what the current controls ask for.
async function settled() {
  await page.waitForFunction(() => {
    const t = document.querySelector('table.catalog-table');
    return t && !t.hasAttribute('aria-busy') && !/Loading/.test(t.caption.textContent);
  });
}

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  mkdirSync(process.env.GR_BROWSER_PROFILE ?? '', { recursive: true });
  // Debian's chromium, never a downloaded browser; without the background
  // networking flags it tries to reach hosts this machine cannot.
  context = await chromium.launchPersistentContext(process.env.GR_BROWSER_PROFILE, {
    executablePath: process.env.GR_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15000);
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // The browser logs every 404 answer; the missing-entity step asks for one on purpose.
    if (m.type() === 'error' && !/status of 404/.test(m.text())) problems.push(`console error: ${m.text()}`);
  });
});

after(async () => {
  await context?.close();
});

test('the catalog page lists every entity of the repository', async () => {
  await page.goto(`${base}/`);
  await assert.doesNotReject(page.getByRole('heading', { level: 1, name: 'Catalog' }).waitFor());
  await settled();
  assert.equal(await caption().textContent(), 'Entities 1–18 of 18');
  const names = await rowNames();
  assert.equal(names.length, 18);
  assert.deepEqual(names.slice(0, 3), ['ada.lovelace', 'alan.turing', 'build-bot']);
  // Users show their display name, entities their title, under the name.
  assert.match(await page.locator('tbody tr', { hasText: 'ada.lovelace' }).textContent(), /Ada Lovelace/);
  // The top bar tells at once that the last sync had a file error.
  await page.locator('#sync-badge:not([hidden])').waitFor();
  assert.equal(await page.locator('#sync-badge').textContent(), 'Synced with 1 file error');
  await shot('catalog');
});

test('filtering by kind, then by type', async () => {
  await page.getByLabel('Kind').selectOption('Component');
  await settled();
  assert.deepEqual(await rowNames(), ['build-bot', 'checkout-web', 'deploy-tool', 'ledger', 'log-shipper', 'payment-service']);
  assert.match(page.url(), /kind=Component/);
  // The type and owner choices narrow to the chosen kind, with counts.
  const types = await page.getByLabel('Type').locator('option').allTextContents();
  assert.deepEqual(types, ['All types', 'service (3)', 'tool (2)', 'website (1)']);
  await page.getByLabel('Type').selectOption('tool');
  await settled();
  assert.deepEqual(await rowNames(), ['build-bot', 'deploy-tool']);
  // deploy-tool names its owner as a full ref; both link to the same group.
  const owners = await page.locator('tbody tr td:nth-child(4) a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  assert.deepEqual(owners, ['#/entity/group/default/platform', '#/entity/group/default/platform']);
});

test('searching text', async () => {
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await settled();
  assert.equal((await rowNames()).length, 18);
  await page.getByRole('searchbox', { name: 'Search' }).fill('REFUND');
  await page.waitForFunction(() => new URLSearchParams(location.hash.split('?')[1]).get('q') === 'REFUND');
  await settled();
  // Names, titles and descriptions are searched, case-insensitively.
  assert.deepEqual(await rowNames(), ['payment-api', 'payment-service', 'payments']);
  await page.getByLabel('Kind').selectOption('Group');
  await settled();
  assert.deepEqual(await rowNames(), ['payments']);
  await page.getByRole('searchbox', { name: 'Search' }).fill('no such thing anywhere');
  await page.waitForFunction(() => /no%20such|no\+such/.test(location.hash));
  await settled();
  assert.equal(await caption().textContent(), 'No entities');
  assert.match(await page.locator('.table-message').textContent(), /No entity matches these filters/);
  await page.getByRole('button', { name: 'Clear filters' }).first().click();
  await settled();
  assert.equal((await rowNames()).length, 18);
});

test('paging with the cursor, and sorting by a column', async () => {
  await page.getByLabel('Rows per page').selectOption('10');
  await settled();
  assert.equal(await caption().textContent(), 'Entities 1–10 of 18');
  const first = await rowNames();
  assert.equal(first.length, 10);
  assert.equal(await page.getByRole('button', { name: '← Previous' }).isDisabled(), true);
  await page.getByRole('button', { name: 'Next →' }).click();
  await settled();
  assert.equal(await caption().textContent(), 'Entities 11–18 of 18');
  const second = await rowNames();
  assert.equal(second.length, 8);
  assert.equal(new Set([...first, ...second]).size, 18, 'the two pages together hold every entity once');
  assert.equal(await page.getByRole('button', { name: 'Next →' }).isDisabled(), true);
  assert.match(await page.locator('.page-label').textContent(), /Page 2 of 2/);
  await page.getByRole('button', { name: '← Previous' }).click();
  await settled();
  assert.deepEqual(await rowNames(), first);

  const nameHeader = page.getByRole('columnheader', { name: /Name/ });
  assert.equal(await nameHeader.getAttribute('aria-sort'), 'ascending');
  await nameHeader.getByRole('button').click();
  await settled();
  assert.equal(await nameHeader.getAttribute('aria-sort'), 'descending');
  assert.deepEqual((await rowNames()).slice(0, 3), ['tooling', 'platform', 'payments-db']);
  await nameHeader.getByRole('button').click();
  await settled();
  await page.getByLabel('Rows per page').selectOption('20');
  await settled();
});

test('opening an entity with the keyboard shows its relations and source file', async () => {
  await page.getByRole('link', { name: 'payment-service', exact: true }).focus();
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Payment service' }).waitFor();
  // Focus moves to the new page's heading, as after a page load.
  assert.equal(await page.evaluate(() => document.activeElement?.tagName), 'H1');
  assert.match(page.url(), /#\/entity\/component\/default\/payment-service$/);

  const relations = page.getByRole('region', { name: 'Relations' });
  const groups = await relations.locator('.relations > div').evaluateAll((divs) =>
    divs.map((d) => `${d.querySelector('dt').textContent}: ${[...d.querySelectorAll('a')].map((a) => a.textContent).join(', ')}`),
  );
  assert.deepEqual(groups, [
    'Owned by: group payments',
    'Part of: system checkout',
    'Depends on: resource payments-db',
    'Dependency of: component ledger',
    'Provides API: api payment-api',
  ]);
  const source = page.getByRole('region', { name: 'Source' });
  assert.equal(await source.locator('.source-file').textContent(), 'components/payments.yaml:1');
  assert.match(await source.textContent(), new RegExp(`file:${repo.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/components/payments\\.yaml`));
  const about = page.getByRole('region', { name: 'About' });
  assert.match(await about.textContent(), /Lifecycleproduction/);
  assert.match(await about.textContent(), /tiercritical|tier: critical/);
  assert.equal(await page.getByRole('link', { name: 'Runbook' }).getAttribute('href'), 'https://example.com/runbooks/payment-service');
  await shot('entity');

  // A relation is a link to the related entity's page, and back returns.
  await relations.getByRole('link', { name: /ledger/ }).click();
  await page.getByRole('heading', { level: 1, name: 'ledger' }).waitFor();
  assert.equal(await page.getByRole('region', { name: 'Source' }).locator('.source-file').textContent(), 'components/payments.yaml:33');
  const ledgerRelations = await page.getByRole('region', { name: 'Relations' }).textContent();
  assert.match(ledgerRelations, /Depends on.*component payment-service/s);
  await page.goBack();
  await page.getByRole('heading', { level: 1, name: 'Payment service' }).waitFor();
});

test('a missing entity says so', async () => {
  await page.goto(`${base}/#/entity/component/default/half-written`);
  await page.getByRole('heading', { level: 1, name: 'half-written' }).waitFor();
  assert.match(await page.getByRole('alert').textContent(), /no entity component:default\/half-written/);
});

test('the sync-status panel shows the broken file with its position', async () => {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sync status' }).click();
  await page.getByRole('heading', { level: 1, name: 'Sync status' }).waitFor();
  const card = page.getByRole('region', { name: 'fixture' });
  await card.waitFor();
  assert.match(await card.locator('.status').textContent(), /Succeeded with 1 file error/);
  assert.match(await card.textContent(), /18 entities from 6 files/);
  // The next run is the one the provider has scheduled, shown as a <time>.
  const api = await (await fetch(`${base}/api/central-config/last-sync?provider=fixture`)).json();
  assert.ok(api.nextRunAt, 'the provider has a next run');
  const next = card.locator('dt', { hasText: 'Next run' }).locator('xpath=following-sibling::dd[1]/time');
  assert.equal(await next.getAttribute('datetime'), api.nextRunAt);
  assert.match(await next.textContent(), /^in \d+ (minutes|hour)/);
  const rows = await card.locator('table.errors-table tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert.equal(rows.length, 1);
  assert.equal(rows[0][0], 'broken.yaml:6:8');
  assert.match(rows[0][1], /YAML syntax error/);
  await shot('sync-error');
});

test('refresh runs the sync and shows its new result', async () => {
  // The team fixes the file in the config repository, then asks for a sync.
  writeFileSync(
    join(repo, 'broken.yaml'),
    'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: half-written\n  description: Now complete\nspec:\n  type: service\n  lifecycle: experimental\n  owner: platform\n',
  );
  const card = page.getByRole('region', { name: 'fixture' });
  const button = card.getByRole('button', { name: 'Refresh now' });
  await button.click();
  const result = card.locator('.refresh-result');
  await page.waitForFunction(() => /Sync finished|failed/.test(document.querySelector('.refresh-result')?.textContent ?? ''));
  const text = await result.textContent();
  assert.match(text, /Sync finished/);
  assert.match(text, /19 entities, 1 added, 0 updated, 0 removed, 0 file errors/);
  assert.equal(await button.isEnabled(), true);
  assert.equal(await card.locator('table.errors-table').count(), 0);
  assert.match(await card.textContent(), /Every file was read without error/);
  assert.match(await card.locator('.status').textContent(), /^Succeeded$/);
  await page.waitForFunction(() => document.getElementById('sync-badge').textContent.startsWith('Synced just now'));
  await shot('sync-refreshed');

  // The repaired file's entity is now in the catalog.
  await page.goto(`${base}/#/entity/component/default/half-written`);
  await page.getByRole('heading', { level: 1, name: 'half-written' }).waitFor();
  assert.equal(await page.getByRole('region', { name: 'Source' }).locator('.source-file').textContent(), 'broken.yaml:1');
});

test('no script errors on any page', () => {
  assert.deepEqual(problems, []);
});
