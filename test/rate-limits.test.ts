import http from 'node:http';
import { Redis } from 'ioredis';
import t, { type Test } from 'tap';
import { startEmbedded, startMultiprocess, type System } from './helpers/system.js';
import { TEST_REDIS_URL } from './helpers/services.js';

/** Low limits and no exempt addresses, so loopback clients are limited like any other. */
const LIMITS = {
  PUSHWIRE_RATE_LIMIT_EXEMPT: '',
  PUSHWIRE_RATE_TOKENS_PER_MINUTE: '5',
  PUSHWIRE_RATE_QUEUES_PER_MINUTE: '4',
  PUSHWIRE_RATE_DEVICES_PER_MINUTE: '3',
};

interface Answer {
  status: number;
  retryAfter: string | undefined;
  body: { error?: string; message?: string; token?: string };
}

/** A POST from a chosen loopback address, on a connection of its own (so circus's api processes share the requests). */
function post(base: string, path: string, json: unknown, { from = '127.0.0.1', token }: { from?: string; token?: string } = {}): Promise<Answer> {
  const body = JSON.stringify(json);
  return new Promise((resolve, reject) => {
    const request = http.request(`${base}${path}`, {
      method: 'POST', localAddress: from, agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...(token ? { 'x-auth-token': token } : {}) },
    }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, retryAfter: response.headers['retry-after'] as string | undefined, body: JSON.parse(text) }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

const statuses = (answers: Answer[]) => answers.map((answer) => answer.status);
const subscription = (n: number) => ({ endpoint: `https://push.example.com/rate-${process.pid}-${n}-${Math.random()}`, keys: { p256dh: `B${'A'.repeat(86)}`, auth: 'A'.repeat(22) } });

function rateLimitSuite(t: Test, name: string, start: () => Promise<System>): void {
  t.test(name, async (t) => {
    const system = await start();
    t.teardown(() => system.stop());
    const api = system.apiUrl;

    await t.test('tokens per client address: the limit, then 429 rate_limited with Retry-After; another address is not affected', async (t) => {
      const first = [];
      for (let n = 0; n < 7; n++) first.push(await post(api, '/token/', {}));
      t.same(statuses(first), [200, 200, 200, 200, 200, 429, 429]);
      t.same(Object.keys(first[5].body), ['error', 'message']);
      t.equal(first[5].body.error, 'rate_limited');
      t.ok(Number(first[5].retryAfter) >= 1 && Number(first[5].retryAfter) <= 60, `Retry-After: ${first[5].retryAfter} s`);
      t.equal((await post(api, '/token/', {}, { from: '127.0.0.2' })).status, 200, 'another address still gets tokens');
    });

    await t.test('queues per token; device registrations per token (or address) on each route that registers one', async (t) => {
      const [owner, other] = [(await post(api, '/token/', {}, { from: '127.0.0.3' })).body.token!, (await post(api, '/token/', {}, { from: '127.0.0.3' })).body.token!];
      const queues = [];
      for (let n = 0; n < 5; n++) queues.push(await post(api, '/queue/', { token: owner, domain: `d${n}.example` }, { from: `127.0.0.${10 + n}` }));
      t.same(statuses(queues), [200, 200, 200, 200, 429], 'per token, whatever address it comes from');
      t.equal((await post(api, '/queue/', { token: other, domain: 'x.example' })).status, 200, 'another token is not affected');
      const devices = [];
      for (let n = 0; n < 4; n++) devices.push(await post(api, '/devices/', { platform: 'fcm', token: `fcm-rate-${Math.random()}` }, { token: owner }));
      t.same(statuses(devices), [201, 201, 201, 429], 'POST /devices/ per token');
      t.equal(devices[3].body.error, 'rate_limited');
      const subscriptions = [];
      for (let n = 0; n < 4; n++) subscriptions.push(await post(api, '/push/subscribe', subscription(n), { token: other }));
      t.same(statuses(subscriptions), [200, 200, 200, 429], 'POST /push/subscribe per token');
      const anonymous = [];
      for (let n = 0; n < 4; n++) anonymous.push(await post(api, '/push/subscribe', subscription(10 + n), { from: '127.0.0.40' }));
      t.same(statuses(anonymous), [200, 200, 200, 429], 'anonymous: per client address');
    });

    if (system.redis) {
      await t.test('the counters are in Redis, so every api process shares them', async (t) => {
        const redis = new Redis(TEST_REDIS_URL);
        t.teardown(() => redis.disconnect());
        const keys = await redis.keys(`${system.redis!.prefix}rl:*`);
        t.ok(keys.length >= 3, `counters under ${system.redis!.prefix}rl: (${keys.length})`);
      });
    }
  });
}

rateLimitSuite(t, 'npm start (embedded, counters in memory)', () => startEmbedded(LIMITS));
rateLimitSuite(t, 'circus.ini processes (two api processes, counters in Redis)', () => startMultiprocess(LIMITS));
