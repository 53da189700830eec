import type { Page } from 'playwright-core';
import t from 'tap';
import { launchChromium, screenshot, skipWithoutChromium as skip } from '../helpers/browser.js';
import { eventually, Http, sleep } from '../helpers/client.js';
import { startMultiprocess } from '../helpers/system.js';
import { withPushSystem } from '../servers/all.js';
import { circusGateways, transportEnv, transportSkip, type TransportName } from '../helpers/transports.js';

/** Runs this file's tests with the gateways on `transport` (skipped where it cannot run). */
export function demoBrowserTests(transport: TransportName): void {
  const unavailable = transportSkip(transport, circusGateways());
  if (unavailable) {
    t.plan(0, unavailable);
    return;
  }
  // The demo page and the browser SDK in a real headless Chromium, against circus.ini's
  // processes, so the gateways can go down while the api keeps taking messages.
  // The system's pusher sends Web Push to the local RFC 8030 service, which decrypts each push.
  const push = withPushSystem(t, (env) => startMultiprocess({ ...env, ...transportEnv(transport) }));

  const received = (page: Page) => page.evaluate(() => (window as unknown as { pushwireDemo: { received: string[] } }).pushwireDemo.received);
  t.test('the demo page: live, caught up after a gateway restart (collapsed, none lost or repeated), resumed after reload', { skip }, async (t) => {
    const { page, errors } = await launchChromium(t, { width: 900, height: 900 });
    const system = push.system();
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
    await screenshot(page, 'demo-live.png');

    await system.stopRole('gateway');
    await page.waitForFunction(() => document.getElementById('state')!.dataset.state !== 'connected', undefined, { timeout: 10_000 });
    const score = [];
    for (const goals of [1, 2, 3]) score.push(await api.publish(queue, { title: `Score ${goals}:0`, replaceId: 'score' }));
    const other = await api.publish(queue, { title: 'Half time' });
    await screenshot(page, 'demo-disconnected.png');
    await system.startRole('gateway');
    await page.waitForSelector(`li[data-key="${other.key}"]`, { timeout: 30_000 });
    await sleep(500);
    t.same(await received(page), [hello.key, score[2].key, other.key], 'caught up: the newest score only, nothing lost, nothing twice');
    t.equal(await page.locator('#messages li').count(), 3);
    t.equal(await page.locator('#state').getAttribute('data-state'), 'connected');
    await screenshot(page, 'demo-caught-up.png');

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
    t.match(await page.locator('#resume').textContent(), `resuming after ${whileAway.key}`, 'from the key it stored');
    await screenshot(page, 'demo-reloaded.png');
    t.same(errors, [], 'no script errors');
  });

  t.test('Web Push: a message published while the page is closed becomes a notification from the service worker', { skip }, async (t) => {
    const { context, page, errors } = await launchChromium(t, { width: 900, height: 900 });
    const system = push.system();
    const api = new Http(system.apiUrl);
    await context.grantPermissions(['notifications'], { origin: system.apiUrl });
    await page.goto(`${system.apiUrl}/demo/`);
    await page.waitForSelector('#state[data-state="connected"]', { timeout: 15_000 });
    const { token, queue } = await page.evaluate(() => JSON.parse(localStorage.getItem('pushwire:demo')!) as { token: string; queue: string });
    // The worker enableWebPush registers. Headless Chromium has no push service to subscribe
    // with, so the subscription comes from the local RFC 8030 service and each push it decrypts
    // is handed to the worker through the DevTools protocol, as a browser's push service would.
    const cdp = await context.newCDPSession(page);
    const registrations: { registrationId: string; isDeleted: boolean }[] = [];
    cdp.on('ServiceWorker.workerRegistrationUpdated', (event) => registrations.push(...event.registrations));
    await cdp.send('ServiceWorker.enable');
    await page.evaluate(async () => {
      await navigator.serviceWorker.register('/sdk/sw.js', { scope: '/' });
      await navigator.serviceWorker.ready;
    });
    const registration = await eventually(() => registrations.find((r) => !r.isDeleted));
    const subscriber = push.servers().webpush.subscribe();
    const device = await api.request('POST', '/devices/', { json: { platform: 'webpush', subscription: subscriber.subscription }, headers: { 'x-auth-token': token } });
    t.equal(device.status, 201, 'the subscription is a device of the page\'s user');

    await page.goto('about:blank');
    await sleep(300);
    const message = await api.publish(queue, { title: 'Goal!', body: '1:0 in the 89th minute', actionUrl: `${system.apiUrl}/demo/?from=push` });
    const pushed = await eventually(() => push.servers().webpush.requests.find((r) => r.id === subscriber.id), 15_000);
    t.equal(pushed.payload.key, message.key, 'pushed with the message key');
    await cdp.send('ServiceWorker.deliverPushMessage', { origin: `${system.apiUrl}/`, registrationId: registration.registrationId, data: JSON.stringify(pushed.payload) });

    await page.goto(`${system.apiUrl}/demo/`);
    const notifications = await eventually(() => page.evaluate(async () => {
      const shown = await (await navigator.serviceWorker.ready).getNotifications();
      return shown.length ? shown.map((n) => ({ title: n.title, body: n.body, tag: n.tag, actionUrl: (n.data as { actionUrl?: string }).actionUrl })) : null;
    }), 10_000);
    t.same(notifications, [{ title: 'Goal!', body: '1:0 in the 89th minute', tag: message.key, actionUrl: `${system.apiUrl}/demo/?from=push` }], 'shown with its text, tagged by key, opening actionUrl on click');
    await page.waitForSelector(`li[data-key="${message.key}"]`, { timeout: 15_000 });
    t.pass('and the page, opened again, catches up with it');
    t.same(errors, [], 'no script errors');
  });
}
