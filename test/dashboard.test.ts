import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import t from 'tap';
import { Http, WsClient } from './helpers/client.js';
import { ROOT, startEmbedded, type System } from './helpers/system.js';

// The monitor's dashboard in a real headless Chromium (Debian's package; .ci/run installs it).
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-artifacts');

t.test('the dashboard loads, shows the gateway, and follows clients connecting', { skip: existsSync(CHROMIUM) || process.env.CI ? false : `no ${CHROMIUM}: apt-get install chromium` }, async (t) => {
  const system: System = await startEmbedded();
  t.teardown(() => system.stop());
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  t.teardown(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${system.monitorUrl}/dashboard`);
  await page.waitForSelector('tr.up', { timeout: 10_000 });
  t.equal(await page.locator('tr.up').count(), 1, 'one gateway, up');
  t.match(await page.locator('tr.up td').nth(1).textContent(), new URL(system.wsUrl).host, 'with its address');
  t.equal(await page.locator('#connections').textContent(), '0');

  const api = new Http(system.apiUrl);
  const clients = await Promise.all([1, 2, 3].map(async () => WsClient.connect(system.wsUrl, { token: (await api.user()).token })));
  await Promise.all(clients.map((client) => client.waitFor((frame) => frame.type === 'hello')));
  await page.waitForFunction(() => document.getElementById('connections')?.textContent === '3', undefined, { timeout: 10_000 });
  t.pass('the page shows the three new connections');
  t.equal(await page.locator('.uplot').count(), 4, 'four charts drawn');
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
  t.same(errors, [], 'no script errors');
  clients.forEach((client) => client.close());
});
