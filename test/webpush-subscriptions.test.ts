import t from 'tap';
import { eventually, Http } from './helpers/client.js';
import { startEmbedded } from './helpers/system.js';
import { withPushSystem } from './servers/all.js';

// The Web Push subscription module at /push, delivering through the local push service.
// Anonymous subscriptions capped low, so the last test can reach the cap.
const push = withPushSystem(t, startEmbedded, { PUSHWIRE_MAX_ANONYMOUS_SUBSCRIPTIONS: '3' });

const admin = { authorization: 'Bearer admin-token-for-tests-only' };

t.test('subscribe: validated, de-duplicated by endpoint, persisted, counted', async (t) => {
  const api = new Http(push.system().apiUrl);
  const first = push.servers().webpush.subscribe();
  const second = push.servers().webpush.subscribe();
  const one = await api.request('POST', '/push/subscribe', { json: first.subscription });
  t.same([one.status, one.body], [200, { ok: true, count: 1 }]);
  t.same((await api.request('POST', '/push/subscribe', { json: first.subscription })).body, { ok: true, count: 1 }, 'the same endpoint twice counts once');
  t.same((await api.request('POST', '/push/subscribe', { json: second.subscription })).body, { ok: true, count: 2 });
  for (const [name, json] of [
    ['no keys', { endpoint: second.subscription.endpoint }],
    ['plain http', { ...second.subscription, endpoint: 'http://push.example/x' }],
    ['short auth', { ...second.subscription, keys: { ...second.subscription.keys, auth: 'abc' } }],
    ['a private address', { ...second.subscription, endpoint: 'https://[fd00::1]/push/x' }],
  ] as const) {
    t.match(await api.request('POST', '/push/subscribe', { json }), { status: 400, body: { error: 'invalid_field' } }, name);
  }
  await push.system().restartAll();
  const broadcast = await api.request<{ ok: boolean; count: number; key: string }>('POST', '/push/', { json: { title: 'To everyone', body: 'hi', replaceId: 'news' }, headers: admin });
  t.same([broadcast.status, broadcast.body.count], [202, 2], 'still two after a restart');
  const got = await eventually(() => {
    const requests = push.servers().webpush.requests.filter((r) => r.id === first.id || r.id === second.id);
    return requests.length === 2 && requests;
  });
  t.ok(got.every((r) => r.payload.title === 'To everyone' && r.payload.body === 'hi' && r.topic === 'news' && r.payload.key === broadcast.body.key));
  t.same((await api.request('POST', '/push/unsubscribe', { json: { endpoint: first.subscription.endpoint } })).body, { ok: true, count: 1 });
  t.match(await api.request('POST', '/push/unsubscribe', { json: { endpoint: first.subscription.endpoint } }), { status: 404, body: { error: 'device_not_found' } });
});

t.test("a subscription with a user's token joins that user's offline fallback, not the broadcast", async (t) => {
  const api = new Http(push.system().apiUrl);
  const { token, queue } = await api.user();
  const browser = push.servers().webpush.subscribe();
  t.same((await api.request('POST', '/push/subscribe', { json: browser.subscription, headers: { 'x-auth-token': token } })).body, { ok: true, count: 1 });
  const listed = await api.request<{ devices: { platform: string; token: string }[] }>('GET', '/devices/', { headers: { 'x-auth-token': token } });
  t.same(listed.body.devices.map((d) => [d.platform, d.token]), [['webpush', browser.subscription.endpoint]]);
  const message = await api.publish(queue, { title: 'Personal' });
  const [received] = await eventually(() => push.servers().webpush.requests.filter((r) => r.id === browser.id).length > 0 && push.servers().webpush.requests.filter((r) => r.id === browser.id));
  t.equal(received.payload.key, message.key);
  await api.request('POST', '/push/', { json: { title: 'Broadcast only' }, headers: admin });
  await new Promise((resolve) => setTimeout(resolve, 800));
  t.notOk(push.servers().webpush.requests.some((r) => r.id === browser.id && r.payload.title === 'Broadcast only'));
  t.match(await api.request('POST', '/push/subscribe', { json: browser.subscription, headers: { 'x-auth-token': 'f'.repeat(32) } }), { status: 401, body: { error: 'invalid_token' } });
});

t.test('broadcasting needs the admin token and a title', async (t) => {
  const api = new Http(push.system().apiUrl);
  t.match(await api.request('POST', '/push/', { json: { title: 'x' } }), { status: 400, body: { error: 'missing_token' } });
  t.match(await api.request('POST', '/push/', { json: { body: 'no title' }, headers: admin }), { status: 400 });
});

t.test('anonymous subscriptions are capped; one known already is still renewed at the cap', async (t) => {
  const api = new Http(push.system().apiUrl);
  const browsers = [push.servers().webpush.subscribe(), push.servers().webpush.subscribe(), push.servers().webpush.subscribe()];
  let count = 0;
  for (const browser of browsers) {
    const answer = await api.request<{ ok: boolean; count: number; error?: string }>('POST', '/push/subscribe', { json: browser.subscription });
    if (answer.status === 409) {
      t.match(answer.body, { error: 'too_many_devices', message: /anonymous subscriptions/ });
      break;
    }
    count = answer.body.count;
  }
  t.equal(count, 3, 'the audience filled up to the cap');
  t.match(await api.request('POST', '/push/subscribe', { json: push.servers().webpush.subscribe().subscription }), { status: 409, body: { error: 'too_many_devices' } });
  t.same((await api.request('POST', '/push/subscribe', { json: browsers[0].subscription })).body, { ok: true, count: 3 }, 'a known subscription renews');
});
