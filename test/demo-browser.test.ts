import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import t, { type Test } from 'tap';
import { Http, sleep } from './helpers/client.js';
import { ROOT, startMultiprocess, type System } from './helpers/system.js';

// The demo page and the browser SDK in a real headless Chromium (Debian's package; .ci/run
// installs it), against circus.ini's processes, so the gateways can go down while the api
// keeps taking messages.
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-artifacts');
// Skipped without Chromium on a developer's machine; under CI (which installs it) a missing browser fails.
const skip = existsSync(CHROMIUM) || process.env.CI ? false : `no ${CHROMIUM}: apt-get install chromium`;

let system: System;
t.before(async () => {
  if (!skip) system = await startMultiprocess();
});
t.teardown(() => system?.stop());

async function launch(t: Test) {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  t.teardown(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 900, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  return { context, page, errors };
}

const received = (page: Page) => page.evaluate(() => (window as unknown as { pushwireDemo: { received: string[] } }).pushwireDemo.received);
const shot = (page: Page, name: string) => {
  mkdirSync(ARTIFACTS, { recursive: true });
  return page.screenshot({ path: join(ARTIFACTS, name), fullPage: true });
};

t.test('the demo page: live, caught up after a gateway restart (collapsed, none lost or repeated), resumed after reload', { skip }, async (t) => {
  const { page, errors } = await launch(t);
  const api = new Http(system.apiUrl);
  await page.goto(`${system.apiUrl}/demo/`);
  await page.waitForSelector('#state[data-state="connected"]', { timeout: 15_000 });
  const queue = (await page.locator('#queue').textContent())!;
  t.match(queue, /^http:\/\/.+\/queue\/.+\/$/, 'shows its queue URL');
  t.match(await page.locator('#curl').textContent(), `curl -X POST ${queue}`, 'and how to publish to it');
  await sleep(300);
  const hello = await api.publish(queue, { title: 'Hello', body: 'published over HTTP' });
  await page.waitForSelector(`li[data-key="${hello.key}"]`, { timeout: 10_000 });
  t.match(await page.locator(`li[data-key="${hello.key}"]`).textContent(), 'published over HTTP', 'shown live');
  await shot(page, 'demo-live.png');

  await system.stopRole('gateway');
  await page.waitForFunction(() => document.getElementById('state')!.dataset.state !== 'connected', undefined, { timeout: 10_000 });
  const score = [];
  for (const goals of [1, 2, 3]) score.push(await api.publish(queue, { title: `Score ${goals}:0`, replaceId: 'score' }));
  const other = await api.publish(queue, { title: 'Half time' });
  await shot(page, 'demo-disconnected.png');
  await system.startRole('gateway');
  await page.waitForSelector(`li[data-key="${other.key}"]`, { timeout: 30_000 });
  await sleep(500);
  t.same(await received(page), [hello.key, score[2].key, other.key], 'caught up: the newest score only, nothing lost, nothing twice');
  t.equal(await page.locator('#messages li').count(), 3);
  t.equal(await page.locator('#state').getAttribute('data-state'), 'connected');
  await shot(page, 'demo-caught-up.png');

  // Away from the page (a closed tab), then back: the same token, resumed after the stored key.
  await page.goto('about:blank');
  const whileAway = await api.publish(queue, { title: 'While you were away' });
  await page.goto(`${system.apiUrl}/demo/`);
  await page.waitForSelector(`li[data-key="${whileAway.key}"]`, { timeout: 15_000 });
  t.equal(await page.locator('#queue').textContent(), queue, 'the same queue');
  await page.reload();
  await page.waitForSelector('#state[data-state="connected"]', { timeout: 15_000 });
  await sleep(300);
  const afterReload = await api.publish(queue, { title: 'After reload' });
  await page.waitForSelector(`li[data-key="${afterReload.key}"]`, { timeout: 10_000 });
  await sleep(300);
  t.same(await received(page), [afterReload.key], 'a reload repeats nothing');
  t.match(await page.locator('#notice').textContent(), `resuming after ${whileAway.key}`);
  await shot(page, 'demo-reloaded.png');
  t.same(errors, [], 'no script errors');
});
