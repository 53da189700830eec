import t from 'tap';
import { ApnsProvider } from '../providers/apns.js';
import { FcmProvider, type ServiceAccount } from '../providers/fcm.js';
import { GcmProvider } from '../providers/gcm.js';
import { collapseKey, webPushTopic } from '../providers/payload.js';
import type { Notification, Target } from '../providers/types.js';
import { PushServiceAddresses } from '../providers/push-service-address.js';
import { generateVapidKeys, WebPushProvider } from '../providers/webpush.js';
import { LocalApns } from './servers/apns.js';
import { LocalGoogle } from './servers/google.js';
import { p12Forms } from './servers/p12-forms.js';
import { loadPki, P12_PASSPHRASE } from './servers/pki.js';
import { LocalWebPush } from './servers/webpush.js';

const pki = loadPki();
const TOPIC = 'com.example.pushwire';
const APNS_AUTH = { keyId: 'ABC123DEFG', teamId: 'TEAM123456', topic: TOPIC };

const notification = (extra: Partial<Notification> = {}): Notification => ({
  title: 'Hello',
  body: 'World',
  actionUrl: 'https://example.com/open',
  collapseId: 'scores',
  envelope: { key: '000000000001000000000007', queue: 'http://127.0.0.1:5001/queue/abc/', timestamp: '1795416085.524000' },
  expiresAt: Date.now() / 1000 + 3600,
  priority: 'high',
  ...extra,
});
let nextJob = 1;
const target = (token: string, keys: Target['keys'] = null): Target => ({ jobId: nextJob++, deviceId: nextJob, token, keys });
const apnsToken = (n: number) => n.toString(16).padStart(64, '0');

t.test('APNS: token auth, headers, payload, and every reply mapped', async (t) => {
  const server = await new LocalApns(pki, APNS_AUTH).start();
  t.teardown(() => server.close());
  const provider = new ApnsProvider({ token: { key: pki.apnsKeyPem, keyId: APNS_AUTH.keyId, teamId: APNS_AUTH.teamId }, topic: TOPIC, production: false }, server.address);
  t.teardown(() => provider.close());
  const replies: Record<string, ReturnType<LocalApns['reply']>> = {
    [apnsToken(2)]: { status: 400, reason: 'BadDeviceToken' },
    [apnsToken(3)]: { status: 410, reason: 'Unregistered' },
    [apnsToken(4)]: { status: 429, reason: 'TooManyRequests' },
    [apnsToken(5)]: { status: 500, reason: 'InternalServerError' },
    [apnsToken(6)]: { status: 400, reason: 'BadExpirationDate' },
  };
  server.reply = (token) => replies[token] ?? { status: 200 };
  const targets = [1, 2, 3, 4, 5, 6].map((n) => target(apnsToken(n)));
  const sentAt = notification();
  const deliveries = await provider.send(sentAt, targets);
  const kindOf = (n: number) => deliveries.find((d) => d.jobId === targets[n - 1].jobId);
  t.match(kindOf(1), { kind: 'sent', statusCode: 200 });
  t.match(kindOf(2), { kind: 'dead', reason: 'BadDeviceToken' });
  t.match(kindOf(3), { kind: 'dead', reason: 'Unregistered', statusCode: 410 });
  t.match(kindOf(4), { kind: 'retry', statusCode: 429 });
  t.match(kindOf(5), { kind: 'retry', statusCode: 500 });
  t.match(kindOf(6), { kind: 'failed', reason: 'BadExpirationDate' });
  const [request] = server.requests;
  t.equal(request.auth, 'jwt');
  t.same(request.payload.aps.alert, { title: 'Hello', body: 'World' });
  t.same(request.payload.pushwire, { ...sentAt.envelope, actionUrl: 'https://example.com/open' }, 'the envelope rides along to resume from');
  t.equal(request.headers['apns-collapse-id'], 'scores');
  t.equal(request.headers['apns-priority'], '10');
  t.equal(request.headers['apns-expiration'], String(Math.floor(sentAt.expiresAt)));
  t.equal(request.headers['apns-push-type'], 'alert');
});

t.test('APNS: certificate auth, PEM and P12; long collapse ids hashed; oversized bodies trimmed', async (t) => {
  const server = await new LocalApns(pki, APNS_AUTH).start();
  t.teardown(() => server.close());
  const pem = new ApnsProvider({ cert: { pem: pki.clientCertPem, key: pki.clientKeyPem }, topic: TOPIC, production: false }, server.address);
  t.teardown(() => pem.close());
  const p12 = new ApnsProvider({ cert: { p12: pki.clientP12, passphrase: P12_PASSPHRASE }, topic: TOPIC, production: true }, server.address);
  t.teardown(() => p12.close());
  const long = 'x'.repeat(100);
  t.match(await pem.send(notification({ collapseId: long }), [target(apnsToken(7))]), [{ kind: 'sent' }]);
  t.match(await p12.send(notification({ body: 'é'.repeat(5000), priority: 'normal' }), [target(apnsToken(8))]), [{ kind: 'sent', trimmed: true }]);
  t.same(server.requests.map((r) => r.auth), ['certificate', 'certificate']);
  t.equal(server.requests[0].headers['apns-collapse-id'], collapseKey(long));
  t.equal(server.requests[0].headers['apns-collapse-id'].length, 64);
  t.equal(server.requests[1].headers['apns-priority'], '5');
  t.ok(server.requests[1].payload.aps.alert.body!.endsWith('…'), 'the body was shortened, not dropped');
});

t.test('APNS: every P12 form Keychain and OpenSSL export sends; an unreadable one fails each send, and still closes', async (t) => {
  const server = await new LocalApns(pki, APNS_AUTH).start();
  t.teardown(() => server.close());
  for (const [index, form] of p12Forms(pki).entries()) {
    const provider = new ApnsProvider({ cert: { p12: form.p12.toString('base64'), passphrase: form.passphrase }, topic: TOPIC, production: false }, server.address);
    t.match(await provider.send(notification(), [target(apnsToken(100 + index))]), [{ kind: 'sent' }], form.name);
    await provider.close();
  }
  t.equal(server.requests.filter((request) => request.auth === 'certificate').length, 5, 'each with the client certificate');
  const unreadable = new ApnsProvider({ cert: { p12: Buffer.from('not a certificate').toString('base64') }, topic: TOPIC, production: false }, server.address);
  t.match(await unreadable.send(notification(), [target(apnsToken(200))]), [{ kind: 'failed', reason: /^APNS credentials unusable: not a PKCS#12 file/ }]);
  await unreadable.close();
  t.equal(server.requests.length, 5, 'nothing sent with it');
});

t.test('Web Push: VAPID verified, payload decrypted intact, Topic/TTL/Urgency, replies mapped', async (t) => {
  const service = await new LocalWebPush(pki).start();
  t.teardown(() => service.close());
  // The local service is on loopback: allowed as a push service of our own.
  const provider = new WebPushProvider(generateVapidKeys('mailto:ops@example.com'), 10, new PushServiceAddresses(['127.0.0.0/8', '::1']));
  const [ok, gone, missing, busy, broken] = [1, 2, 3, 4, 5].map(() => service.subscribe());
  const replies: Record<string, ReturnType<LocalWebPush['reply']>> = {
    [gone.id]: { status: 410 }, [missing.id]: { status: 404 }, [busy.id]: { status: 429, retryAfter: 30 }, [broken.id]: { status: 400 },
  };
  service.reply = (id) => replies[id] ?? { status: 201 };
  const targets = [ok, gone, missing, busy, broken].map((s) => target(s.subscription.endpoint, s.subscription.keys));
  const sentAt = notification({ collapseId: 'this replaceId is far too long to be a Web Push topic' });
  const deliveries = await provider.send(sentAt, targets);
  t.match(deliveries, [
    { kind: 'sent', statusCode: 201 }, { kind: 'dead', statusCode: 410 }, { kind: 'dead', statusCode: 404 },
    { kind: 'retry', statusCode: 429, retryAfterMs: 30_000 }, { kind: 'failed', statusCode: 400 },
  ]);
  const [received] = service.requests;
  t.same(received.payload, { title: 'Hello', body: 'World', ...sentAt.envelope, actionUrl: 'https://example.com/open' });
  t.equal(received.topic, webPushTopic(sentAt.collapseId));
  t.match(received.topic, /^[A-Za-z0-9_-]{1,32}$/);
  t.equal(received.urgency, 'high');
  t.ok(Number(received.ttl) > 3590 && Number(received.ttl) <= 3600);
  t.equal(received.vapidSubject, 'mailto:ops@example.com');
  const big = await provider.send(notification({ body: 'b'.repeat(6000) }), [target(ok.subscription.endpoint, ok.subscription.keys)]);
  t.match(big, [{ kind: 'sent', trimmed: true }], 'trimmed to fit 4 KB after encryption');
  t.ok(service.requests[1].payload.body.length < 3993);
});

t.test('FCM v1: service-account token from its token_uri, one request per device, UNREGISTERED is dead', async (t) => {
  const google = await new LocalGoogle(pki, { projectId: 'demo-project', clientEmail: 'pusher@demo-project.iam.gserviceaccount.com', serverKey: 'k' }).start();
  t.teardown(() => google.close());
  const provider = new FcmProvider(google.serviceAccount(pki) as unknown as ServiceAccount, google.url, 10);
  google.fcmReply = (token) => (token === 'dead' ? { status: 404, code: 'UNREGISTERED' } : token === 'busy' ? { status: 429, code: 'QUOTA_EXCEEDED', retryAfter: 5 } : token === 'bad' ? { status: 400, code: 'INVALID_ARGUMENT' } : { status: 200 });
  const deliveries = await provider.send(notification({ iconUrl: 'https://example.com/i.png', priority: 'normal' }), ['a', 'dead', 'busy', 'bad', 'b'].map((token) => target(token)));
  t.match(deliveries, [{ kind: 'sent' }, { kind: 'dead', reason: 'UNREGISTERED' }, { kind: 'retry', retryAfterMs: 5000 }, { kind: 'failed', reason: 'INVALID_ARGUMENT' }, { kind: 'sent' }]);
  t.equal(google.tokensIssued, 1, 'one access token for the batch');
  t.same(google.fcm.map((r) => r.token).sort(), ['a', 'b'], 'the two accepted, sent concurrently: in any order');
  const first = google.fcm.find((r) => r.token === 'a')!;
  t.same(first.message.notification, { title: 'Hello', body: 'World', image: 'https://example.com/i.png' });
  t.equal(first.message.data.key, '000000000001000000000007');
  t.same({ ...first.message.android, ttl: undefined }, { collapse_key: 'scores', ttl: undefined, priority: 'NORMAL' });
  t.match(first.message.android.ttl, /^\d+s$/);
});

t.test('legacy GCM: 1,000 ids per request, per-id results, canonical ids, HTTP errors', async (t) => {
  const google = await new LocalGoogle(pki, { projectId: 'p', clientEmail: 'e', serverKey: 'server-key' }).start();
  t.teardown(() => google.close());
  const provider = new GcmProvider('server-key', `${google.url}/fcm/send`);
  google.gcmReply = (id) => (id === 'id-1' ? { error: 'NotRegistered' } : id === 'id-2' ? { ok: true, canonical: 'id-2-new' } : id === 'id-3' ? { error: 'Unavailable' } : id === 'id-4' ? { error: 'InvalidRegistration' } : { ok: true });
  const targets = Array.from({ length: 1500 }, (_, i) => target(`id-${i}`));
  const deliveries = await provider.send(notification(), targets);
  t.same(google.gcm.map((r) => r.registrationIds.length), [1000, 500], 'split at 1,000 ids');
  t.match(deliveries.slice(0, 5), [{ kind: 'sent' }, { kind: 'dead', reason: 'NotRegistered' }, { kind: 'sent', canonicalToken: 'id-2-new' }, { kind: 'retry', reason: 'Unavailable' }, { kind: 'dead', reason: 'InvalidRegistration' }]);
  t.equal(deliveries.filter((d) => d.kind === 'sent').length, 1497);
  t.match(google.gcm[0].body, { collapse_key: 'scores', priority: 'high', notification: { title: 'Hello', body: 'World', click_action: 'https://example.com/open' } });
  google.gcmStatus = 503;
  t.match(await provider.send(notification(), [target('x')]), [{ kind: 'retry', statusCode: 503 }]);
  google.gcmRetryAfter = '120';
  t.match(await provider.send(notification(), [target('x'), target('y')]), [{ kind: 'retry', retryAfterMs: 120_000 }, { kind: 'retry', retryAfterMs: 120_000 }], 'Retry-After kept for the outbox');
  google.gcmStatus = null;
  const unreachable = new GcmProvider('server-key', 'http://127.0.0.1:1/fcm/send');
  t.match(await unreachable.send(notification(), [target('x')]), [{ kind: 'retry', reason: /fetch failed/ }], 'a service that cannot be reached: retried later');
  const wrongKey = new GcmProvider('wrong', `${google.url}/fcm/send`);
  t.match(await wrongKey.send(notification(), [target('x')]), [{ kind: 'failed', statusCode: 401 }]);
});

t.test('Web Push endpoints that lead inward are dead, never dialled: loopback, private, link-local, metadata, by name or literal', async (t) => {
  const service = await new LocalWebPush(pki).start();
  t.teardown(() => service.close());
  const guarded = new WebPushProvider(generateVapidKeys('mailto:ops@example.com'), 10, new PushServiceAddresses([]));
  t.teardown(() => guarded.close());
  const subscription = service.subscribe().subscription;
  const path = new URL(subscription.endpoint).pathname;
  const port = new URL(subscription.endpoint).port;
  const endpoints = [
    subscription.endpoint, // localhost, by name: refused after DNS
    `https://127.0.0.1:${port}${path}`,
    `https://[::1]:${port}${path}`,
    `https://[::ffff:127.0.0.1]:${port}${path}`,
    'https://10.1.2.3/push/x',
    'https://192.168.0.10/push/x',
    'https://169.254.169.254/latest/meta-data/',
    'https://100.100.100.200/push/x',
    'https://[fd00:ec2::254]/push/x',
    'https://0.0.0.0/push/x',
  ];
  const deliveries = await guarded.send(notification(), endpoints.map((endpoint) => target(endpoint, subscription.keys)));
  deliveries.forEach((delivery, index) => t.match(delivery, { kind: 'dead', reason: /^not a push service: .*not a public address/ }, endpoints[index]));
  t.same(service.requests, [], 'nothing reached the local service');
  // The sentinel: the same service, allowed, gets the same subscription's push.
  const allowed = new WebPushProvider(generateVapidKeys('mailto:ops@example.com'), 10, new PushServiceAddresses(['127.0.0.1/32', '::1']));
  t.teardown(() => allowed.close());
  t.match(await allowed.send(notification(), [target(subscription.endpoint, subscription.keys)]), [{ kind: 'sent', statusCode: 201 }]);
  t.equal(service.requests.length, 1);
  const addresses = new PushServiceAddresses([]);
  t.equal(addresses.refusal('8.8.8.8'), null, 'public unicast passes');
  t.equal(addresses.refusal('2001:4860:4860::8888'), null);
});
