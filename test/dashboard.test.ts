import t from 'tap';
import { launchChromium, screenshot, skipWithoutChromium } from './helpers/browser.js';
import { Http, WsClient } from './helpers/client.js';
import { startEmbedded, type System } from './helpers/system.js';

// The monitor's dashboard in a real headless Chromium.
t.test('the dashboard loads, shows the gateway, and follows clients connecting', { skip: skipWithoutChromium }, async (t) => {
  const system: System = await startEmbedded();
  t.teardown(() => system.stop());
  const { page, errors } = await launchChromium(t, { width: 1280, height: 900 });
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
  await screenshot(page, 'dashboard.png');
  t.same(errors, [], 'no script errors');
  clients.forEach((client) => client.close());
});
