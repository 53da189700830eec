import { createHmac, randomBytes } from 'node:crypto';
import type { Test } from 'tap';
import { sign, signedString } from '../../api/compat/hmac.js';
import { eventually, WsClient } from '../helpers/client.js';
import type { System } from '../helpers/system.js';
import { startPushServers, type PushServers } from '../servers/all.js';
import { LocalSmtp } from '../servers/smtp.js';

const KEY = 'd51459b5-d634-48f7-a77c-d87c77af37f1';
const SECRET = 'usersharedsecret';
const CHANNEL = 'moxie-channel-token-0123456789';
/** Moxie notifications at /notifications: HMAC-signed writes, live broadcast, push and email. */
export function moxieSuite(t: Test, start: (env: Record<string, string>) => Promise<System>): void {
  let servers: PushServers;
  let smtp: LocalSmtp;
  let system: System;
  t.before(async () => {
    servers = await startPushServers();
    smtp = await new LocalSmtp().start();
    system = await start({
      ...servers.env,
      PUSHWIRE_MOXIE_USERS: `${KEY}:${SECRET},other-key:other-secret`,
      PUSHWIRE_MOXIE_BROADCAST_TOKEN: CHANNEL,
      PUSHWIRE_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
      PUSHWIRE_EMAIL_FROM: 'alerts@pushwire.test',
      PUSHWIRE_EMAIL_TO: 'ops@example.com, oncall@example.com',
    });
  });
  t.teardown(async () => {
    await system?.stop();
    await smtp?.close();
    await servers?.close();
  });

  /** `text`: a body sent as it is (not JSON-encoded). */
  interface Signed { method: string; path: string; body?: unknown; text?: string; key?: string; secret?: string; date?: string; nonce?: string; algorithm?: 'sha1' | 'sha256'; tamper?: boolean }

  async function moxie({ method, path, body, text, key = KEY, secret = SECRET, date = new Date().toUTCString(), nonce = randomBytes(6).toString('hex'), algorithm, tamper }: Signed) {
    const raw = text ?? (body === undefined ? '' : JSON.stringify(body));
    const signature = sign(secret, signedString(method, path, key, nonce, date, raw), algorithm);
    const headers: Record<string, string> = { 'x-moxie-key': key, 'x-hmac-nonce': nonce, date, authorization: tamper ? signature.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')) : signature };
    if (raw) headers['content-type'] = 'application/json';
    const response = await fetch(`${system.apiUrl}${path}`, { method, headers, body: raw || undefined });
    return { status: response.status, location: response.headers.get('location'), body: (await response.json()) as Record<string, unknown> };
  }

  const get = async (path: string) => {
    const response = await fetch(`${system.apiUrl}${path}`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  t.test('HMAC auth: missing, unknown key, bad signature, stale date, replayed nonce', async (t) => {
    const unsigned = await fetch(`${system.apiUrl}/notifications`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"message":"x"}' });
    t.match({ status: unsigned.status, body: await unsigned.json() }, { status: 401, body: { error: 'missing_signature' } });
    for (const [name, body] of [['not JSON', '{"message":'], ['no message', '{"title":"x"}'], ['an unknown field', '{"message":"x","evil":1}']]) {
      const probe = await fetch(`${system.apiUrl}/notifications`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      t.match({ status: probe.status, body: await probe.json() }, { status: 401, body: { error: 'missing_signature' } }, `unsigned, ${name}: the signature is checked first`);
    }
    t.match(await moxie({ method: 'POST', path: '/notifications', text: '{"message":' }), { status: 400, body: { error: 'bad_request' } }, 'signed, not JSON: 400');
    t.match(await moxie({ method: 'POST', path: '/notifications', body: { message: 'x' }, key: 'nobody' }), { status: 401, body: { error: 'unknown_api_key' } });
    t.match(await moxie({ method: 'POST', path: '/notifications', body: { message: 'x' }, tamper: true }), { status: 401, body: { error: 'invalid_signature' } });
    t.match(await moxie({ method: 'POST', path: '/notifications', body: { message: 'x' }, secret: 'other-secret' }), { status: 401, body: { error: 'invalid_signature' } }, "another key's secret");
    t.match(await moxie({ method: 'POST', path: '/notifications', body: { message: 'x' }, date: new Date(Date.now() - 3600_000).toUTCString() }), { status: 401, body: { error: 'stale_date' } });
    const nonce = 'once-only';
    t.equal((await moxie({ method: 'POST', path: '/notifications', body: { message: 'first' }, nonce })).status, 201);
    t.match(await moxie({ method: 'POST', path: '/notifications', body: { message: 'first' }, nonce }), { status: 401, body: { error: 'replayed_nonce' } });
    t.equal((await moxie({ method: 'POST', path: '/notifications', body: { message: 'sha-256' }, algorithm: 'sha256' })).status, 201, 'HMAC-SHA256 too');
  });

  /**
   * A request as Moxie's auth_test.sh makes it: date(1)'s date, a $RANDOM nonce, the signature
   * over the URL as typed (`openssl sha1 -hmac`), and the body with curl -d's form type.
   */
  async function asAuthTestSh(method: string, path: string, options: { body?: string; omit?: string; signature?: string } = {}) {
    const url = `${system.apiUrl}${path}`;
    // date(1) on a machine set to UTC: `Sat Dec  5 09:09:16 UTC 2026`.
    const [weekday, , month, year, time] = new Date().toUTCString().split(' ');
    const dateUtc = `${weekday.slice(0, 3)} ${month} ${String(new Date().getUTCDate()).padStart(2, ' ')} ${time} UTC ${year}`;
    const nonce = String(Math.floor(Math.random() * 32768));
    const headers: Record<string, string> = {
      'x-moxie-key': KEY, date: dateUtc, 'x-hmac-nonce': nonce,
      // canonical_form="$method\n$url\ndate:$date\nx-hmac-nonce:$nonce"; echo -n | openssl sha1 -hmac "$secret"
      authorization: options.signature ?? createHmac('sha1', SECRET).update(`${method}\n${url}\ndate:${dateUtc}\nx-hmac-nonce:${nonce}`).digest('hex'),
      accept: '*/*',
    };
    if (options.omit) delete headers[options.omit];
    if (options.body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(url, { method, headers, body: options.body });
    return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
  }

  t.test("Moxie's own signing, as auth_test.sh sends it: date(1)'s Date, a numeric nonce, the URL signed, the body as a form", async (t) => {
    const created = await asAuthTestSh('POST', '/notifications/', { body: '{"message": "urgent message!", "label": "from auth_test.sh", "unknown": "ignored"}' });
    t.same([created.status, created.body.status], [201, 'created'], 'created: the JSON body read whatever its type, unknown fields ignored');
    const uuid = created.body.ident as string;
    t.match((await get(`/notifications/${uuid}`)).body, { message: 'urgent message!', label: 'from auth_test.sh' });
    t.same((await asAuthTestSh('DELETE', `/notifications/${uuid}?reason=test`)).status, 200, 'the query string is part of the signed URL');
    const missing = await asAuthTestSh('POST', '/notifications/', { body: '{"message": "x"}', omit: 'date' });
    t.equal(missing.status, 401);
    t.equal(missing.headers.get('www-authenticate'), 'HMACDigest realm="HMACDigest Moxie", reason="missing header: HTTP_DATE", algorithm="HMAC-SHA-1", ', "Moxie's challenge, byte for byte");
    t.match(missing.body, { error: 'missing_signature', description: missing.body.message }, "the text where Moxie's clients read it");
    const wrong = await asAuthTestSh('POST', '/notifications/', { body: '{"message": "x"}', signature: 'wrong-wrong' });
    t.same([wrong.status, wrong.headers.get('www-authenticate')], [401, 'HMACDigest realm="HMACDigest Moxie", reason="unauthorized", algorithm="HMAC-SHA-1", ']);
  });

  t.test('notifications: create with defaults, read, update, list ongoing or history, delete; live on the broadcast channel', async (t) => {
    const live = await WsClient.connect(system.wsUrl, { token: CHANNEL });
    await live.waitFor((frame) => frame.type === 'hello');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const before = Date.now();
    const created = await moxie({ method: 'POST', path: '/notifications', body: { message: 'Bomb threat at X', url: 'https://example.com/x', label: 'security' } });
    t.equal(created.status, 201);
    t.match(created.body, { ident: /^[0-9a-f-]{36}$/, status: 'created' });
    const uuid = created.body.ident as string;
    t.equal(created.location, `/notifications/${uuid}`);
    const one = await get(`/notifications/${uuid}`);
    t.match(one.body, { uuid, ident: uuid, message: 'Bomb threat at X', url: 'https://example.com/x', label: 'security', followups: [], _links: { self: { href: `/notifications/${uuid}` } } });
    t.match(one.body.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    t.ok(Math.abs(Date.parse(`${one.body.timestamp}Z`) - before) < 5000, 'timestamp defaults to now');
    t.equal(Date.parse(`${one.body.expires}Z`) - Date.parse(`${one.body.timestamp}Z`), 3600_000, 'expires defaults to an hour later');
    const alert = await live.waitFor((frame) => frame.type === 'message' && (frame.body as Record<string, unknown>).title === 'Bomb threat at X');
    t.match(alert.body, { title: 'Bomb threat at X', body: 'security', actionUrl: 'https://example.com/x', replaceId: `moxie-${uuid}` });

    const updated = await moxie({ method: 'POST', path: `/notifications/${uuid}`, body: { message: 'Bomb threat at X, avoid the area!', expires: '2099-02-08T18:00:00' } });
    t.same([updated.status, updated.location], [200, `/notifications/${uuid}`]);
    t.match((await get(`/notifications/${uuid}`)).body, { message: 'Bomb threat at X, avoid the area!', expires: '2099-02-08T18:00:00' });
    await live.waitFor((frame) => frame.type === 'message' && (frame.body as Record<string, unknown>).title === 'Bomb threat at X, avoid the area!');

    const past = await moxie({ method: 'POST', path: '/notifications', body: { message: 'Old flood', timestamp: '2013-11-08T10:00:00', expires: '2013-11-08T16:00:00' } });
    const ongoing = (await get('/notifications')).body.notifications as { uuid: string }[];
    t.ok(ongoing.some((n) => n.uuid === uuid) && !ongoing.some((n) => n.uuid === past.body.ident), 'only ongoing by default');
    for (const flag of ['true', 'True', '1', 't']) {
      t.ok(((await get(`/notifications?history=${flag}`)).body.notifications as { uuid: string }[]).some((n) => n.uuid === past.body.ident), `history=${flag}`);
    }
    t.notOk(((await get('/notifications?history=false')).body.notifications as { uuid: string }[]).some((n) => n.uuid === past.body.ident));

    t.match(await moxie({ method: 'DELETE', path: `/notifications/${past.body.ident}` }), { status: 200 });
    t.match(await get(`/notifications/${past.body.ident}`), { status: 404, body: { error: 'notification_not_found' } });
    t.match(await moxie({ method: 'POST', path: '/notifications', body: { message: 'x', expires: '08/11/2013' } }), { status: 400, body: { error: 'invalid_field' } });
    t.match(await moxie({ method: 'POST', path: '/notifications', body: {} }), { status: 400 });
    t.match(await moxie({ method: 'POST', path: '/notifications/no-such-uuid', body: { message: 'x' } }), { status: 404, body: { error: 'notification_not_found' } });
    live.close();
  });

  t.test('follow-ups: numbered, updated, deleted, announced', async (t) => {
    const live = await WsClient.connect(system.wsUrl, { token: CHANNEL });
    await live.waitFor((frame) => frame.type === 'hello');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const { body } = await moxie({ method: 'POST', path: '/notifications', body: { message: 'Fire at Y' } });
    const uuid = body.ident as string;
    const first = await moxie({ method: 'POST', path: `/notifications/${uuid}/followup`, body: { message: 'security services have arrived on scene' } });
    t.same([first.status, first.location], [201, `/notifications/${uuid}/followup/1`]);
    const second = await moxie({ method: 'POST', path: `/notifications/${uuid}/followup`, body: { message: 'Fire department working', timestamp: '2030-01-01T12:00:00' } });
    t.equal(second.location, `/notifications/${uuid}/followup/2`);
    const edited = await moxie({ method: 'POST', path: `/notifications/${uuid}/followup/1`, body: { message: 'police on scene' } });
    t.same([edited.status, edited.location], [200, `/notifications/${uuid}/followup/1`]);
    t.match((await get(`/notifications/${uuid}`)).body.followups, [{ id: 1, message: 'police on scene' }, { id: 2, message: 'Fire department working', timestamp: '2030-01-01T12:00:00' }]);
    t.equal((await moxie({ method: 'DELETE', path: `/notifications/${uuid}/followup/1` })).status, 200);
    t.match((await get(`/notifications/${uuid}`)).body.followups, [{ id: 2 }]);
    t.match(await moxie({ method: 'DELETE', path: `/notifications/${uuid}/followup/1` }), { status: 404, body: { error: 'followup_not_found' } });
    await live.waitFor((frame) => frame.type === 'message' && (frame.body as Record<string, unknown>).title === 'security services have arrived on scene');
    live.close();
  });

  t.test('POST /push: 202, pushed to the broadcast audience and mailed', async (t) => {
    const subscriber = servers.webpush.subscribe();
    await fetch(`${system.apiUrl}/push/subscribe`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(subscriber.subscription) });
    const { body } = await moxie({ method: 'POST', path: '/notifications', body: { message: 'Flood warning', url: 'https://example.com/flood' } });
    const pushed = await moxie({ method: 'POST', path: '/notifications/push', body: { notification: body.ident, message: 'Flood warning: avoid the river' } });
    t.equal(pushed.status, 202);
    const [received] = await eventually(() => servers.webpush.requests.filter((r) => r.id === subscriber.id).length > 0 && servers.webpush.requests.filter((r) => r.id === subscriber.id));
    t.match(received.payload, { title: 'Flood warning: avoid the river', actionUrl: 'https://example.com/flood' });
    const mail = await eventually(() => smtp.mails.find((m) => m.raw.includes('Flood warning: avoid the river')));
    t.same(mail.to, ['ops@example.com', 'oncall@example.com']);
    t.equal(mail.from, 'alerts@pushwire.test');
    t.match(mail.raw, /https:\/\/example\.com\/flood/);
    t.same(pushed.body, { status: 'success' }, "Moxie's answer");
    t.match(await moxie({ method: 'POST', path: '/notifications/push', body: { notification: 'missing', message: 'about nothing' } }), { status: 400, body: { error: 'invalid_field', description: "Notification 'missing' not found" } }, 'an unknown notification: 400, as Moxie');
    for (const message of ['  ab  ', 'x'.repeat(251)]) {
      t.match(await moxie({ method: 'POST', path: '/notifications/push', body: { notification: body.ident, message } }), { status: 400, body: { description: "'message' must be between 3 and 250 characters" } }, `${message.trim().length} characters after trimming: 400`);
    }
    t.equal((await moxie({ method: 'POST', path: '/notifications/push', body: { notification: body.ident, message: ` ${'x'.repeat(250)} ` } })).status, 202, '250 after trimming: pushed');
  });

  t.test("mobile devices register as Moxie's apps do (public), and POST /push reaches them through APNS and GCM", async (t) => {
    const register = async (service: string, body: string, contentType = 'application/json') => {
      const response = await fetch(`${system.apiUrl}/notifications/register/${service}`, { method: 'POST', headers: { 'content-type': contentType }, body });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const registrationId = `moxie-android-${randomBytes(4).toString('hex')}`;
    const deviceToken = randomBytes(32).toString('hex');
    // moxie-js-client's push.js: $.ajax POST, JSON.stringify({registration_id}), contentType application/json.
    t.same(await register('gcm', JSON.stringify({ registration_id: registrationId })), { status: 202, body: { success: true } });
    t.same(await register('apns', JSON.stringify({ device_token: deviceToken }), 'text/plain'), { status: 202, body: { success: true } }, 'any content type, as Moxie');
    t.same((await register('gcm', JSON.stringify({ registration_id: registrationId }))).status, 202, 'again: the same device');
    t.match(await register('gcm', '{}'), { status: 400, body: { message: 'Expected key: registration_id', description: 'Expected key: registration_id' } });
    t.match(await register('apns', '{"token": "x"}'), { status: 400, body: { message: 'Expected key: device_token' } });
    t.match(await register('apns', 'device_token=abc'), { status: 400, body: { message: 'Expected JSON in POST data' } });
    t.match(await register('apns', JSON.stringify({ device_token: 'not hex' })), { status: 400, body: { error: 'invalid_field' } }, 'ours: a token that cannot be one is refused');
    const { body } = await moxie({ method: 'POST', path: '/notifications', body: { message: 'Snow closure' } });
    t.equal((await moxie({ method: 'POST', path: '/notifications/push', body: { notification: body.ident, message: 'University closed: snow' } })).status, 202);
    const android = await eventually(() => servers.google.gcm.find((request) => request.registrationIds.includes(registrationId)));
    t.match(JSON.stringify(android.body), /University closed: snow/, 'to the Android device through GCM');
    const ios = await eventually(() => servers.apns.requests.find((request) => request.token === deviceToken));
    t.match(JSON.stringify(ios.payload), /University closed: snow/, 'to the iOS device through APNS');
  });

  t.test("HAL+JSON as moxie-js-client reads it; plain JSON carries the same members; 406 when neither is acceptable", async (t) => {
    const { body: created } = await moxie({ method: 'POST', path: '/notifications', body: { message: 'Road closed', url: 'https://example.com/road' } });
    const uuid = created.ident as string;
    await moxie({ method: 'POST', path: `/notifications/${uuid}/followup`, body: { message: 'Diversion in place' } });
    const { body: quiet } = await moxie({ method: 'POST', path: '/notifications', body: { message: 'No follow-ups here' } });
    interface Item { ident: string; uuid?: string; _embedded?: { followups: Record<string, unknown>[] }; [member: string]: unknown }
    interface List { notifications?: Item[]; _embedded: { notifications: Item[] }; _links: unknown }
    const read = async <T = Record<string, unknown>>(path: string, accept?: string) => {
      const response = await fetch(`${system.apiUrl}${path}`, { headers: accept ? { accept } : {} });
      return { status: response.status, type: response.headers.get('content-type'), body: (await response.json()) as T };
    };
    const hal = await read<List>('/notifications/', 'application/hal+json');
    t.match(hal.type, /^application\/hal\+json/);
    t.same(hal.body._links, { self: { href: '/notifications/' } });
    t.notOk('notifications' in hal.body, 'HAL only');
    const item = hal.body._embedded.notifications.find((n) => n.ident === uuid)!;
    t.match(item, { ident: uuid, message: 'Road closed', url: 'https://example.com/road', _links: { self: { href: `/notifications/${uuid}` } }, _embedded: { followups: [{ message: 'Diversion in place', _links: { self: { href: `/notifications/${uuid}/followup/1` } } }] } });
    t.notOk('uuid' in item || 'followups' in item || 'id' in item._embedded!.followups[0], "none of the seed's members");
    t.notOk('_embedded' in hal.body._embedded.notifications.find((n) => n.ident === quiet.ident)!, 'no _embedded without follow-ups: the Today card counts updates by it');
    // jQuery's dataType json: what moxie-js-client's Backbone models send.
    const jquery = await read<List>('/notifications/', 'application/json, text/javascript, */*; q=0.01');
    t.match(jquery.type, /^application\/json/);
    t.ok(jquery.body._embedded.notifications.some((n) => n.ident === uuid), 'plain JSON has _embedded.notifications too');
    t.ok(jquery.body.notifications!.some((n) => n.uuid === uuid), "and the seed's notifications");
    const detail = await read(`/notifications/${uuid}`, 'application/hal+json');
    t.match(detail.body, { ident: uuid, timestamp: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/, _embedded: { followups: [{ message: 'Diversion in place' }] } });
    const followup = await read(`/notifications/${uuid}/followup/1`, 'application/hal+json');
    t.same(Object.keys(followup.body).sort(), ['_links', 'message', 'timestamp'], 'a follow-up as Moxie shows it');
    t.match(await read(`/notifications/${uuid}/followup/9`), { status: 404, body: { error: 'followup_not_found' } });
    t.match(await read('/notifications/', 'text/html'), { status: 406, body: { error: 'not_acceptable' } });
    t.match(await read(`/notifications/${uuid}`, 'fail/ure'), { status: 406 }, "Moxie's own test: fail/ure");
    t.equal((await read('/notifications/')).status, 200, 'no Accept at all: anything goes (RFC 9110)');
    const updated = await moxie({ method: 'POST', path: `/notifications/${uuid}`, body: { message: 'Road reopened' } });
    t.match(updated.body, { ident: uuid, message: 'Road reopened', status: 'updated', _links: { self: { href: `/notifications/${uuid}` } } }, 'an update answers the notification, as Moxie');
  });

  t.test("ongoing means started and not expired, as Moxie's list", async (t) => {
    const future = new Date(Date.now() + 3600_000).toISOString().slice(0, 19);
    const later = new Date(Date.now() + 7200_000).toISOString().slice(0, 19);
    const { body } = await moxie({ method: 'POST', path: '/notifications', body: { message: 'Planned outage tomorrow', timestamp: future, expires: later } });
    const ids = async (query: string) => ((await get(`/notifications/${query}`)).body.notifications as { uuid: string }[]).map((n) => n.uuid);
    t.notOk((await ids('')).includes(body.ident as string), 'not yet started: not ongoing');
    t.ok((await ids('?history=true')).includes(body.ident as string), 'but in the history');
  });

  t.test('CORS preflight as Moxie answered it, with the headers a signed request needs', async (t) => {
    const response = await fetch(`${system.apiUrl}/notifications/push`, {
      method: 'OPTIONS', headers: { origin: 'https://m.example.ac.uk', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-moxie-key, x-hmac-nonce, authorization, content-type' },
    });
    t.equal(response.status, 200);
    t.equal(response.headers.get('access-control-allow-origin'), '*');
    t.equal(response.headers.get('access-control-max-age'), '21600');
    t.match(response.headers.get('access-control-allow-methods'), /POST/);
    t.match(response.headers.get('access-control-allow-headers'), /x-moxie-key.*x-hmac-nonce.*authorization/);
  });
}
