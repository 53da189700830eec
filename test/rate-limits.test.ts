import http from 'node:http';
import { Redis } from 'ioredis';
import t, { type Test } from 'tap';
import { startEmbedded, startMultiprocess, type System } from './helpers/system.js';
import { TEST_REDIS_URL } from './helpers/services.js';
import { eventually, freshMinute } from './helpers/client.js';

/** Low limits and no exempt addresses, so loopback clients are limited like any other. */
const LIMITS = {
  PUSHWIRE_RATE_LIMIT_EXEMPT: '',
  PUSHWIRE_RATE_TOKENS_PER_MINUTE: '5',
  PUSHWIRE_RATE_QUEUES_PER_MINUTE: '4',
  PUSHWIRE_RATE_DEVICES_PER_MINUTE: '3',
  PUSHWIRE_RATE_PUBLISHES_PER_QUEUE_PER_MINUTE: '6',
};

interface Answer {
  status: number;
  retryAfter: string | undefined;
  body: { error?: string; message?: string; token?: string; queue?: string; key?: string; published?: number; results?: { error?: string; status?: number; key?: string }[] };
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
      t.same(Object.keys(first[5].body), ['error', 'message', 'status', 'errors']);
      t.equal(first[5].body.error, 'rate_limited');
      t.ok(Number(first[5].retryAfter) >= 1 && Number(first[5].retryAfter) <= 60, `Retry-After: ${first[5].retryAfter} s`);
      t.equal((await post(api, '/token/', {}, { from: '127.0.0.2' })).status, 200, 'another address still gets tokens');
    });

    await t.test('queues per token; device registrations per token (or address), counted together on every route that registers one', async (t) => {
      const [owner, other] = [(await post(api, '/token/', {}, { from: '127.0.0.3' })).body.token!, (await post(api, '/token/', {}, { from: '127.0.0.3' })).body.token!];
      const queues = [];
      for (let n = 0; n < 5; n++) queues.push(await post(api, '/queue/', { token: owner, domain: `d${n}.example` }, { from: `127.0.0.${10 + n}` }));
      t.same(statuses(queues), [200, 200, 200, 200, 429], 'per token, whatever address it comes from');
      t.equal((await post(api, '/queue/', { token: other, domain: 'x.example' })).status, 200, 'another token is not affected');
      const registrations = [];
      for (let n = 0; n < 2; n++) registrations.push(await post(api, '/devices/', { platform: 'fcm', token: `fcm-rate-${Math.random()}` }, { token: owner }));
      registrations.push(await post(api, '/push/subscribe', subscription(0), { token: owner }));
      registrations.push(await post(api, '/push/subscribe', subscription(1), { token: owner }));
      registrations.push(await post(api, '/devices/', { platform: 'fcm', token: `fcm-rate-${Math.random()}` }, { token: owner }));
      t.same(statuses(registrations), [201, 201, 200, 429, 429], 'per token, counted together on POST /devices/ and POST /push/subscribe');
      t.equal(registrations[3].body.error, 'rate_limited');
      const subscriptions = [];
      for (let n = 0; n < 4; n++) subscriptions.push(await post(api, '/push/subscribe', subscription(2 + n), { token: other }));
      t.same(statuses(subscriptions), [200, 200, 200, 429], 'another token counts apart');
      const anonymous = [];
      for (let n = 0; n < 4; n++) anonymous.push(await post(api, '/push/subscribe', subscription(10 + n), { from: '127.0.0.40' }));
      t.same(statuses(anonymous), [200, 200, 200, 429], 'anonymous: per client address');
    });

    if (!system.redis) {
      await t.test('messages per queue, from any address: the limit, then 429 with Retry-After; in a batch, the refused items fail alone', async (t) => {
        await freshMinute();
        const owner = (await post(api, '/token/', {}, { from: '127.0.0.50' })).body.token!;
        const [busy, quiet] = [(await post(api, '/queue/', { token: owner, domain: 'busy.example' })).body.queue!, (await post(api, '/queue/', { token: owner, domain: 'quiet.example' })).body.queue!];
        const singles = [];
        for (let n = 0; n < 4; n++) singles.push(await post(api, new URL(busy).pathname, { title: `m${n}` }, { from: `127.0.0.${60 + n}` }));
        t.same(statuses(singles), [200, 200, 200, 200], 'four of six, from four addresses');
        const batch = await post(api, '/publish', { messages: [0, 1, 2].map((n) => ({ queue: busy, message: { title: `b${n}` } })).concat([{ queue: quiet, message: { title: 'q' } }]) }, { from: '127.0.0.64' });
        t.equal(batch.status, 200);
        t.same(batch.body.results!.map((result) => result.status ?? 200), [200, 200, 429, 200], 'the batch takes the last two; its third item fails alone; another queue is not affected');
        t.equal(batch.body.results![2].error, 'rate_limited');
        const refused = await post(api, new URL(busy).pathname, { title: 'one more' }, { from: '127.0.0.65' });
        t.equal(refused.status, 429);
        t.equal(refused.body.error, 'rate_limited');
        t.match(refused.body.message, /most messages allowed this minute \(6\)/);
        t.ok(Number(refused.retryAfter) >= 1 && Number(refused.retryAfter) <= 60, `Retry-After: ${refused.retryAfter} s`);
      });
    } else {
      await t.test('messages per queue: two api processes share the count; once it is spent, both refuse, singles and batch items alike', async (t) => {
        // The whole check within one clock minute (the limits' windows): the loop below alone may
        // take up to 30 s on a loaded machine.
        await freshMinute(45);
        const minute = Math.floor(Date.now() / 60_000);
        const redis = new Redis(TEST_REDIS_URL);
        t.teardown(() => redis.disconnect());
        const owner = (await post(api, '/token/', {}, { from: '127.0.0.70' })).body.token!;
        const queue = (await post(api, '/queue/', { token: owner, domain: 'shared.example' })).body.queue!;
        // Each publish on a connection of its own: the api processes take turns accepting them.
        const first = [];
        for (let n = 0; n < 6; n++) first.push(await post(api, new URL(queue).pathname, { title: `s${n}` }, { from: `127.0.0.${71 + n}` }));
        t.same(statuses(first), Array(6).fill(200), 'six admitted');
        await eventually(async () => {
          const keys = await redis.keys(`${system.redis!.prefix}wc:publish:*`);
          return keys.length > 0 && (await redis.mget(...keys)).includes('6');
        });
        t.pass('both processes have shared their counts: 6 in Redis');
        // A process learns the total of a queue it has not counted at its next share after the
        // first request that asks (one a second): so, one publish a second, each process admits
        // one more at most, then neither does.
        const later: Answer[] = [];
        await eventually(async () => {
          later.push(await post(api, new URL(queue).pathname, { title: 'more' }));
          await new Promise((resolve) => setTimeout(resolve, 1100));
          return later.length >= 4 && statuses(later.slice(-4)).every((status) => status === 429);
        }, 30_000);
        const refused = later.at(-1)!;
        t.equal(refused.body.error, 'rate_limited');
        t.ok(Number(refused.retryAfter) >= 1 && Number(refused.retryAfter) <= 60, `Retry-After: ${refused.retryAfter} s`);
        // The kernel may have handed every one of those to the same process: the other then
        // learns this queue's total only with the batch, and may admit its item before it does.
        const batchErrors: (string | undefined)[] = [];
        await eventually(async () => {
          const batch = await post(api, '/publish', { messages: [{ queue, message: { title: 'b' } }] });
          batchErrors.push(batch.body.results![0].error);
          if (batchErrors.at(-1) === 'rate_limited') return true;
          await new Promise((resolve) => setTimeout(resolve, 1100));
          return false;
        }, 10_000);
        t.equal(Math.floor(Date.now() / 60_000), minute, 'still the minute whose count was spent');
        t.equal(batchErrors.at(-1), 'rate_limited', 'a batch item for it is refused too');
        const admitted = later.filter((answer) => answer.status === 200).length + batchErrors.filter((error) => error === undefined).length;
        t.ok(admitted <= 2, `${admitted} more admitted, singles and batch items (counting apart, the processes would admit 6 more between them)`);
      });
    }

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
rateLimitSuite(t, 'circus.ini processes (two api processes, counters in Redis)', () => startMultiprocess(LIMITS, { api: 2 }));
