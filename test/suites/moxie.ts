import { randomBytes } from 'node:crypto';
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
    t.match(one.body, { uuid, message: 'Bomb threat at X', url: 'https://example.com/x', label: 'security', followups: [] });
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
    t.match(await moxie({ method: 'POST', path: '/notifications/push', body: { notification: 'missing', message: 'x' } }), { status: 404, body: { error: 'notification_not_found' } });
  });
}
