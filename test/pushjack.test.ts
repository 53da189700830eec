import t from 'tap';
import { Http } from './helpers/client.js';
import { startEmbedded } from './helpers/system.js';
import { withPushSystem } from './servers/all.js';

// pushjack-style bulk sends at /pushjack, answered with pushjack's response shapes.
const push = withPushSystem(t, startEmbedded);

const admin = { authorization: 'Bearer admin-token-for-tests-only' };
const token = (n: number) => `ab${n.toString(16).padStart(62, '0')}`;

t.test('APNS bulk: pushjack options, per-token results, expired tokens', async (t) => {
  const api = new Http(push.system().apiUrl);
  push.servers().apns.reply = (tok) => (tok === token(2) ? { status: 410, reason: 'Unregistered' } : tok === token(3) ? { status: 400, reason: 'BadDeviceToken' } : { status: 200 });
  t.teardown(() => { push.servers().apns.reply = () => ({ status: 200 }); });
  const ids = [1, 2, 3, 4].map(token);
  const result = await api.request<Record<string, unknown>>('POST', '/pushjack/apns/send', {
    headers: admin,
    json: { ids, message: 'Hello bulk', badge: 2, sound: 'default', category: 'news', title: 'Title', thread_id: 'thread-1', mutable_content: true, extra: { story: 7 }, low_priority: true, expiration: 600 },
  });
  t.equal(result.status, 200);
  t.same(result.body.tokens, ids);
  t.same(result.body.successes, [token(1), token(4)]);
  t.same(result.body.failures, [token(2), token(3)]);
  t.same(result.body.token_errors, { [token(2)]: 'expired', [token(3)]: 'APNSInvalidTokenError' });
  t.match(result.body.expired, [{ token: token(2), timestamp: Number }]);
  const sent = push.servers().apns.requests.find((r) => r.token === token(1))!;
  t.same(sent.payload, { story: 7, aps: { alert: { body: 'Hello bulk', title: 'Title' }, badge: 2, sound: 'default', category: 'news', 'mutable-content': 1, 'thread-id': 'thread-1' } } as never);
  t.equal(sent.headers['apns-priority'], '5');
  t.ok(Math.abs(Number(sent.headers['apns-expiration']) - (Date.now() / 1000 + 600)) < 30);
  const expired = await api.request<{ expired: { token: string }[] }>('GET', '/pushjack/apns/expired_tokens', { headers: admin });
  t.ok(expired.body.expired.some((e) => e.token === token(2)), 'get_expired_tokens lists it');
});

t.test('APNS bulk: max_payload_length trims the message', async (t) => {
  const api = new Http(push.system().apiUrl);
  const result = await api.request<{ trimmed: boolean; message: { aps: { alert: string } } }>('POST', '/pushjack/apns/send', {
    headers: admin, json: { ids: [token(10)], message: 'x'.repeat(500), max_payload_length: 200 },
  });
  t.equal(result.body.trimmed, true);
  t.ok(JSON.stringify(result.body.message).length <= 200);
  t.ok(result.body.message.aps.alert.endsWith('…'));
});

t.test('GCM bulk: GCMResponse with successes, errors under pushjack names, canonical ids', async (t) => {
  const api = new Http(push.system().apiUrl);
  push.servers().google.gcmReply = (id) => ({ 'id-1': { error: 'NotRegistered' }, 'id-2': { error: 'MessageTooBig' }, 'id-3': { ok: true as const, canonical: 'id-3b' }, 'id-4': { error: 'DeviceMessageRateExceeded' } }[id] ?? { ok: true as const });
  t.teardown(() => { push.servers().google.gcmReply = () => ({ ok: true }); });
  const ids = ['id-0', 'id-1', 'id-2', 'id-3', 'id-4'];
  const result = await api.request<Record<string, unknown>>('POST', '/pushjack/gcm/send', {
    headers: admin,
    json: { ids, message: { text: 'hi', notification: { title: 'T', body: 'B' } }, collapse_key: 'c1', time_to_live: 60, low_priority: true, restricted_package_name: 'com.example', dry_run: true },
  });
  t.equal(result.status, 200);
  t.same(result.body.registration_ids, ids);
  t.same(result.body.successes, ['id-0', 'id-3']);
  t.same(result.body.failures, ['id-1', 'id-2', 'id-4']);
  t.same(result.body.errors, [
    { identifier: 'id-1', code: 'NotRegistered', exception: 'GCMUnregisteredDeviceError', description: 'Device not registered' },
    { identifier: 'id-2', code: 'MessageTooBig', exception: 'GCMMessageTooBigError', description: 'Message too big' },
    { identifier: 'id-4', code: 'DeviceMessageRateExceeded', exception: 'GCMDeviceMessageRateExceededError', description: 'Message rate exceeded' },
  ]);
  t.same(result.body.canonical_ids, [{ old_id: 'id-3', new_id: 'id-3b' }]);
  const request = push.servers().google.gcm.at(-1)!.body as Record<string, unknown>;
  t.match(request, { collapse_key: 'c1', time_to_live: 60, priority: 'normal', restricted_package_name: 'com.example', dry_run: true, data: { text: 'hi' }, notification: { title: 'T', body: 'B' } });
  const wrongKey = await api.request('POST', '/pushjack/gcm/send', { headers: admin, json: { ids: ['x'], message: 'm', api_key: 'nope' } });
  t.match(wrongKey, { status: 400, body: { error: 'invalid_gcm_credentials' } });
});

t.test('validation and auth', async (t) => {
  const api = new Http(push.system().apiUrl);
  t.match(await api.request('POST', '/pushjack/apns/send', { json: { ids: [token(1)] } }), { status: 400, body: { error: 'missing_token' } });
  t.match(await api.request('POST', '/pushjack/apns/send', { headers: admin, json: { ids: ['short'] } }), { status: 400, body: { error: 'invalid_field' } });
  t.match(await api.request('POST', '/pushjack/apns/send', { headers: admin, json: { ids: [] } }), { status: 400 });
  t.match(await api.request('POST', '/pushjack/apns/send', { headers: admin, json: { ids: [token(1)], application_id: 'nobody' } }), { status: 404, body: { error: 'application_not_found' } });
  t.match(await api.request('POST', '/pushjack/gcm/send', { headers: admin, json: { ids: ['a'] } }), { status: 400, body: { error: 'invalid_field' } });
});
