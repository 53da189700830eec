import type { Test } from 'tap';
import { eventually, Http, WsClient, sleep, type Envelope } from '../helpers/client.js';
import type { System } from '../helpers/system.js';
import type { PushServers } from '../servers/all.js';
import type { Subscriber } from '../servers/webpush.js';

let counter = 0;
const unique = () => `${process.pid}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;
const apnsToken = () => Buffer.from(unique().padEnd(32, 'x')).toString('hex').slice(0, 64).padEnd(64, '0');

/** A user with one device on every platform. */
async function userWithDevices(api: Http, servers: PushServers) {
  const user = await api.user();
  const headers = { 'x-auth-token': user.token };
  const tokens = { apns: apnsToken(), fcm: `fcm-${unique()}`, gcm: `gcm-${unique()}` };
  const subscriber = servers.webpush.subscribe();
  for (const [platform, token] of Object.entries(tokens)) {
    const registered = await api.request('POST', '/devices/', { json: { platform, token }, headers });
    if (registered.status !== 201) throw new Error(`register ${platform}: ${JSON.stringify(registered.body)}`);
  }
  const web = await api.request('POST', '/devices/', { json: { platform: 'webpush', subscription: subscriber.subscription }, headers });
  if (web.status !== 201) throw new Error(`register webpush: ${JSON.stringify(web.body)}`);
  return { ...user, headers, tokens, subscriber };
}

type User = Awaited<ReturnType<typeof userWithDevices>>;

/** What each local service received for this user's devices. */
function received(servers: PushServers, user: User) {
  return {
    apns: servers.apns.requests.filter((r) => r.token === user.tokens.apns),
    fcm: servers.google.fcm.filter((r) => r.token === user.tokens.fcm),
    gcm: servers.google.gcm.filter((r) => r.registrationIds.includes(user.tokens.gcm)),
    webpush: servers.webpush.requests.filter((r) => r.id === user.subscriber.id),
  };
}

const total = (r: ReturnType<typeof received>) => r.apns.length + r.fcm.length + r.gcm.length + r.webpush.length;

/** A push worker killed while its requests are in flight: every device still gets the message, any resend under the same Topic. */
export function pusherCrashTest(t: Test, system: () => System, servers: () => PushServers): void {
  t.test('push worker killed mid-batch: nothing lost, a resend carries the same collapse id', async (t) => {
    const api = new Http(system().apiUrl);
    const user = await api.user();
    const headers = { 'x-auth-token': user.token };
    const subscribers = Array.from({ length: 20 }, () => servers().webpush.subscribe());
    for (const subscriber of subscribers) await api.request('POST', '/devices/', { json: { platform: 'webpush', subscription: subscriber.subscription }, headers });
    servers().webpush.delayMs = 3000;
    const arrivedBefore = servers().webpush.arrived;
    const message = await api.publish(user.queue, { title: 'survive the crash' });
    await eventually(() => servers().webpush.arrived - arrivedBefore >= 20);
    await system().stopRole('pusher', 'SIGKILL');
    servers().webpush.delayMs = 0;
    await system().startRole('pusher');
    const ids = new Set(subscribers.map((s) => s.id));
    const got = await eventually(() => {
      const requests = servers().webpush.requests.filter((r) => ids.has(r.id));
      return new Set(requests.map((r) => r.id)).size === 20 && requests;
    }, 15_000);
    t.ok(got.every((r) => r.topic === message.key && r.payload.key === message.key), 'every copy under the message key as Topic');
    const pushes = await eventually(async () => {
      const r = await api.request<{ pushes: { status: string }[] }>('GET', `/pushes/${message.key}/`, { headers });
      return r.body.pushes.length === 20 && r.body.pushes.every((p) => p.status === 'sent') && r.body.pushes;
    }, 15_000);
    t.equal(pushes.length, 20);
  });
}

/** Offline push end to end: devices, the outbox, the worker, and the local provider servers. */
export function pushSuite(t: Test, system: () => System, servers: () => PushServers): void {
  const http = () => new Http(system().apiUrl);

  t.test('an offline user gets the message on every platform, with the envelope and the collapse id', async (t) => {
    const api = http();
    const user = await userWithDevices(api, servers());
    const message = await api.publish(user.queue, { title: 'Offline', body: 'wake up', replaceId: 'score-42', actionUrl: 'https://example.com/m' });
    const got = await eventually(() => { const r = received(servers(), user); return total(r) === 4 && r; });
    t.same(got.apns[0].payload.aps.alert, { title: 'Offline', body: 'wake up' });
    t.equal(got.apns[0].payload.pushwire.key, message.key);
    t.equal(got.apns[0].headers['apns-collapse-id'], 'score-42');
    t.equal(got.fcm[0].message.android.collapse_key, 'score-42');
    t.equal(got.fcm[0].message.data.queue, message.queue);
    t.equal(got.gcm[0].body.collapse_key, 'score-42');
    t.same(got.webpush[0].payload, { title: 'Offline', body: 'wake up', key: message.key, queue: message.queue, timestamp: message.timestamp, actionUrl: 'https://example.com/m' });
    t.equal(got.webpush[0].topic, 'score-42');
    await sleep(500);
    t.equal(total(received(servers(), user)), 4, 'each device was sent the message once');
    const results = await eventually(async () => {
      const r = await api.request<{ pushes: { platform: string; status: string }[] }>('GET', `/pushes/${message.key}/`, { headers: user.headers });
      return r.body.pushes.length === 4 && r.body.pushes.every((p) => p.status === 'sent') && r.body;
    });
    t.same(results.pushes.map((p) => p.platform).sort(), ['apns', 'fcm', 'gcm', 'webpush']);
  });

  t.test('without a replaceId the collapse id is the message key; read messages and markers are never pushed', async (t) => {
    const api = http();
    const user = await userWithDevices(api, servers());
    const message = await api.publish(user.queue, { title: 'Plain' });
    await eventually(() => total(received(servers(), user)) === 4);
    t.equal(received(servers(), user).webpush[0].topic, message.key);
    await api.request('POST', `${new URL(user.queue).pathname}?action=read&key=${message.key}`, { headers: user.headers });
    await api.request('PUT', new URL(user.queue).pathname, { headers: user.headers });
    await sleep(800);
    t.equal(total(received(servers(), user)), 4, 'nothing more was pushed');
  });

  t.test('a connected user who acknowledges gets no push; one who does not is pushed after the ack timeout', async (t) => {
    const api = http();
    const acking = await userWithDevices(api, servers());
    const silent = await userWithDevices(api, servers());
    const ackingClient = await WsClient.connect(system().wsUrl, { token: acking.token });
    const silentClient = await WsClient.connect(system().wsUrl, { token: silent.token });
    await ackingClient.waitFor((f) => f.type === 'hello');
    await silentClient.waitFor((f) => f.type === 'hello');
    await sleep(300);
    const sentAt = Date.now();
    const [first] = await Promise.all([api.publish(acking.queue, { title: 'seen' }), api.publish(silent.queue, { title: 'unseen' })]);
    const [delivered] = await ackingClient.waitForMessages(1);
    t.equal(delivered.key, first.key);
    ackingClient.send({ type: 'ack', key: delivered.key });
    await silentClient.waitForMessages(1);
    await eventually(() => total(received(servers(), silent)) === 4);
    t.ok(Date.now() - sentAt >= 1400, 'the silent socket got the ack timeout first');
    await sleep(500);
    t.equal(total(received(servers(), acking)), 0, 'the acknowledged message was not pushed');
    ackingClient.close();
    silentClient.close();
  });

  t.test('dead tokens are expired, listed for the application, and not pushed again', async (t) => {
    const api = http();
    const user = await userWithDevices(api, servers());
    servers().apns.reply = (token) => (token === user.tokens.apns ? { status: 410, reason: 'Unregistered' } : { status: 200 });
    servers().google.fcmReply = (token) => (token === user.tokens.fcm ? { status: 404, code: 'UNREGISTERED' } : { status: 200 });
    servers().webpush.reply = (id) => (id === user.subscriber.id ? { status: 410 } : { status: 201 });
    servers().google.gcmReply = (id) => (id === user.tokens.gcm ? { error: 'NotRegistered' } : { ok: true });
    t.teardown(() => {
      servers().apns.reply = () => ({ status: 200 });
      servers().google.fcmReply = () => ({ status: 200 });
      servers().webpush.reply = () => ({ status: 201 });
      servers().google.gcmReply = () => ({ ok: true });
    });
    const message = await api.publish(user.queue, { title: 'to the dead' });
    const devices = await eventually(async () => {
      const r = await api.request<{ devices: { platform: string; expiredAt: string | null; expiredReason: string | null }[] }>('GET', '/devices/', { headers: user.headers });
      return r.body.devices.every((d) => d.expiredAt) && r.body.devices;
    });
    t.same(Object.fromEntries(devices.map((d) => [d.platform, d.expiredReason])), { apns: 'Unregistered', fcm: 'UNREGISTERED', gcm: 'NotRegistered', webpush: devices.find((d) => d.platform === 'webpush')!.expiredReason });
    const pushes = await api.request<{ pushes: { status: string }[] }>('GET', `/pushes/${message.key}/`, { headers: user.headers });
    t.ok(pushes.body.pushes.every((p) => p.status === 'failed'));
    const feedback = await api.request<{ devices: { token: string }[] }>('GET', '/applications/default/expired-devices', { headers: { authorization: 'Bearer admin-token-for-tests-only' } });
    t.ok(feedback.body.devices.some((d) => d.token === user.tokens.apns), 'the feedback listing has the dead APNS token');
    const before = total(received(servers(), user));
    await api.publish(user.queue, { title: 'again' });
    await sleep(800);
    t.equal(total(received(servers(), user)), before, 'expired devices get nothing more');
  });

  t.test('a canonical id replaces the registered one', async (t) => {
    const api = http();
    const user = await userWithDevices(api, servers());
    const canonical = `gcm-canonical-${unique()}`;
    servers().google.gcmReply = (id) => (id === user.tokens.gcm ? { ok: true, canonical } : { ok: true });
    t.teardown(() => { servers().google.gcmReply = () => ({ ok: true }); });
    await api.publish(user.queue, { title: 'canonical' });
    const devices = await eventually(async () => {
      const r = await api.request<{ devices: { platform: string; token: string }[] }>('GET', '/devices/', { headers: user.headers });
      return r.body.devices.some((d) => d.token === canonical) && r.body.devices;
    });
    t.equal(devices.filter((d) => d.platform === 'gcm').length, 1);
  });

  t.test('a provider that is down: retried with backoff, delivered once it recovers', async (t) => {
    const api = http();
    const user = await userWithDevices(api, servers());
    let down = true;
    let refused = 0;
    servers().webpush.reply = (id) => (id === user.subscriber.id && down ? (refused++, { status: 503 }) : { status: 201 });
    t.teardown(() => { servers().webpush.reply = () => ({ status: 201 }); });
    const message = await api.publish(user.queue, { title: 'eventually' });
    await eventually(() => refused >= 2, 10_000);
    t.equal(received(servers(), user).webpush.length, 0);
    down = false;
    const got = await eventually(() => received(servers(), user).webpush.length > 0 && received(servers(), user).webpush, 10_000);
    t.equal(got[0].payload.key, message.key);
    await sleep(500);
    t.equal(received(servers(), user).webpush.length, 1, 'sent once after recovery');
  });

  t.test("nobody takes another user's device, on any route that registers one; every route keeps the cap", async (t) => {
    const api = http();
    const [victim, attacker] = [await api.user(), await api.user()];
    const as = (user: { token: string }) => ({ 'x-auth-token': user.token });
    const browser = servers().webpush.subscribe();
    const fcm = `fcm-owned-${unique()}`;
    t.equal((await api.request('POST', '/devices/', { json: { platform: 'fcm', token: fcm }, headers: as(victim) })).status, 201);
    t.equal((await api.request('POST', '/devices/', { json: { platform: 'webpush', subscription: browser.subscription }, headers: as(victim) })).status, 201);
    const attempts: [string, () => Promise<{ status: number; body: { error?: string } }>][] = [
      ['POST /devices/ with the token', () => api.request('POST', '/devices/', { json: { platform: 'fcm', token: fcm }, headers: as(attacker) })],
      ['POST /devices/ with the endpoint', () => api.request('POST', '/devices/', { json: { platform: 'webpush', subscription: browser.subscription }, headers: as(attacker) })],
      ['POST /push/subscribe with a token', () => api.request('POST', '/push/subscribe', { json: browser.subscription, headers: as(attacker) })],
      ['POST /push/subscribe anonymously, other keys', () => api.request('POST', '/push/subscribe', { json: { ...browser.subscription, keys: servers().webpush.subscribe().subscription.keys } })],
    ];
    for (const [name, attempt] of attempts) t.match(await attempt(), { status: 409, body: { error: 'device_taken' } }, name);
    const listed = await api.request<{ devices: { token: string }[] }>('GET', '/devices/', { headers: as(victim) });
    t.same(listed.body.devices.map((device) => device.token).sort(), [fcm, browser.subscription.endpoint].sort(), 'both still the victim\'s');
    t.same((await api.request<{ devices: unknown[] }>('GET', '/devices/', { headers: as(attacker) })).body.devices, []);
    // The victim's messages still reach the victim's browser, with the victim's keys.
    const message = await api.publish(victim.queue, { title: 'still mine' });
    await eventually(() => servers().webpush.requests.some((r) => r.id === browser.id && r.payload.key === message.key));
    t.pass('pushed to the victim\'s browser');

    // Removed by its owner, it may be registered by someone else.
    const own = await api.request<{ devices: { id: number; token: string }[] }>('GET', '/devices/', { headers: as(victim) });
    await api.request('DELETE', `/devices/${own.body.devices.find((device) => device.token === fcm)!.id}/`, { headers: as(victim) });
    t.equal((await api.request('POST', '/devices/', { json: { platform: 'fcm', token: fcm }, headers: as(attacker) })).status, 201, 'free once its owner removed it');

    // The device cap counts on /push/subscribe too.
    const full = await api.user();
    const cap = 100;
    for (let index = 0; index < cap; index++) {
      const r = await api.request('POST', '/devices/', { json: { platform: 'fcm', token: `fcm-cap-${unique()}` }, headers: as(full) });
      if (r.status !== 201) throw new Error(`device ${index}: ${r.status}`);
    }
    t.match(await api.request('POST', '/push/subscribe', { json: servers().webpush.subscribe().subscription, headers: as(full) }), { status: 409, body: { error: 'too_many_devices' } });
    t.match(await api.request('POST', '/devices/', { json: { platform: 'gcm', token: `gcm-${unique()}` }, headers: as(full) }), { status: 409, body: { error: 'too_many_devices' } });
  });

  t.test('device routes: validation, de-duplication, deletion, VAPID key, admin auth', async (t) => {
    const api = http();
    const { token } = await api.user();
    const headers = { 'x-auth-token': token };
    const subscriber: Subscriber = servers().webpush.subscribe();
    const bad: [string, unknown][] = [
      ['apns token not 64 hex', { platform: 'apns', token: 'abc' }],
      ['unknown platform', { platform: 'sms', token: 'x' }],
      ['webpush over http', { platform: 'webpush', subscription: { ...subscriber.subscription, endpoint: 'http://insecure.example/push' } }],
      ['webpush without keys', { platform: 'webpush', subscription: { endpoint: subscriber.subscription.endpoint } }],
      ['webpush to a private address', { platform: 'webpush', subscription: { ...subscriber.subscription, endpoint: 'https://10.0.0.1/push/x' } }],
      ['webpush to the metadata service', { platform: 'webpush', subscription: { ...subscriber.subscription, endpoint: 'https://169.254.169.254/latest/' } }],
      ['bad application id', { platform: 'fcm', token: 'x', app: 'no spaces allowed' }],
    ];
    for (const [name, json] of bad) {
      const result = await api.request('POST', '/devices/', { json, headers });
      t.equal(result.status, 400, name);
      t.equal(result.body.error, 'invalid_field', name);
    }
    t.equal((await api.request('POST', '/devices/', { json: { platform: 'fcm', token: 'x' } })).status, 401, 'needs a token');
    const android = await api.request<{ device: { platform: string } }>('POST', '/devices/', { json: { platform: 'android', token: `android-${unique()}` }, headers });
    t.equal(android.body.device.platform, 'fcm', 'android means FCM HTTP v1');
    const first = await api.request<{ device: { id: number } }>('POST', '/devices/', { json: { platform: 'webpush', subscription: subscriber.subscription }, headers });
    const again = await api.request<{ device: { id: number } }>('POST', '/devices/', { json: { platform: 'webpush', subscription: subscriber.subscription }, headers });
    t.same([first.status, again.status], [201, 200]);
    t.equal(again.body.device.id, first.body.device.id, 'de-duplicated by endpoint');
    t.equal((await api.request('DELETE', `/devices/${first.body.device.id}/`, { headers })).status, 200);
    t.match(await api.request('DELETE', `/devices/${first.body.device.id}/`, { headers }), { status: 404, body: { error: 'device_not_found' } });
    const vapid = await api.request<{ publicKey: string }>('GET', '/devices/vapid-key');
    t.equal(Buffer.from(vapid.body.publicKey, 'base64url').length, 65, 'an uncompressed P-256 point');
    t.equal((await api.request<{ publicKey: string }>('GET', '/devices/vapid-key')).body.publicKey, vapid.body.publicKey, 'kept, not regenerated');
    t.match(await api.request('GET', '/applications/default/expired-devices'), { status: 400, body: { error: 'missing_token' } });
    t.match(await api.request('GET', '/applications/default/expired-devices', { headers: { authorization: 'Bearer wrong' } }), { status: 401, body: { error: 'invalid_token' } });
    t.match(await api.request('GET', '/applications/default/expired-devices', { headers: { authorization: 'admin-token-for-tests-only' } }), { status: 401, body: { error: 'invalid_token' } }, 'the right token without `Bearer ` is refused');
    t.equal((await api.request('GET', '/applications/default/expired-devices', { headers: { authorization: 'Bearer admin-token-for-tests-only' } })).status, 200, 'with it, accepted');
    t.match(await api.request('GET', `/pushes/${'0'.repeat(24)}/`, { headers }), { status: 400, body: { error: 'bad_key' } });
  });
}

export type { Envelope };
