import t, { type Test } from 'tap';
import WebSocket from 'ws';
import { Redis } from 'ioredis';
import { eventually, freshMinute, Http } from './helpers/client.js';
import { TEST_REDIS_URL } from './helpers/services.js';
import { startEmbedded, startMultiprocess, type System } from './helpers/system.js';
import { transportEnv, transportSkip } from './helpers/transports.js';

/**
 * Low per-address limits and no exempt addresses, so loopback clients are limited like any other;
 * 127.0.0.30 is a trusted reverse proxy.
 */
const LIMITS = {
  PUSHWIRE_RATE_LIMIT_EXEMPT: '',
  PUSHWIRE_TRUST_PROXY: '127.0.0.30',
  PUSHWIRE_MAX_CONNECTIONS_PER_ADDRESS: '5',
  PUSHWIRE_RATE_CONNECTS_PER_MINUTE: '12',
  PUSHWIRE_RATE_AUTH_FAILURES_PER_MINUTE: '3',
  PUSHWIRE_AUTH_TIMEOUT_MS: '5000',
};

type Outcome =
  | { kind: 'open'; socket: WebSocket; closed: Promise<number> }
  | { kind: 'refused'; status: number; retryAfter: string | undefined; body: { error: string; message: string } };

/** A websocket from `from`, authenticated with `token`: open once the gateway says hello, or refused at the upgrade. */
function connect(url: string, from: string, token: string, forwardedFor?: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { localAddress: from, ...(forwardedFor ? { headers: { 'x-forwarded-for': forwardedFor } } : {}) });
    const closed = new Promise<number>((done) => socket.on('close', (code) => done(code)));
    socket.on('open', () => socket.send(JSON.stringify({ token })));
    socket.on('message', (data) => {
      if (String(data).startsWith('{"type":"hello"')) resolve({ kind: 'open', socket, closed });
    });
    socket.on('unexpected-response', (_request, response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk));
      response.on('end', () => resolve({ kind: 'refused', status: response.statusCode!, retryAfter: response.headers['retry-after'], body: JSON.parse(text) }));
    });
    socket.on('error', () => {});
    // An unknown token closes with 4001 before any hello.
    void closed.then((code) => resolve({ kind: 'open', socket, closed: Promise.resolve(code) }));
    setTimeout(() => reject(new Error(`no outcome from ${from} within 15 s`)), 15_000).unref();
  });
}

function gatewayLimitSuite(t: Test, name: string, start: () => Promise<System>, skip: string | false = false): void {
  t.test(name, { skip }, async (t) => {
    const system = await start();
    t.teardown(() => system.stop());
    const api = new Http(system.apiUrl);
    const { token } = await api.user();
    const opened: WebSocket[] = [];
    t.teardown(() => opened.forEach((socket) => socket.terminate()));
    const open = async (from: string, with_ = token, forwardedFor?: string) => {
      const outcome = await connect(system.wsUrl, from, with_, forwardedFor);
      if (outcome.kind === 'open') opened.push(outcome.socket);
      return outcome;
    };

    await t.test('open websockets per address: the cap, then 429 too_many_connections; a closed one frees a place; other addresses unaffected', async (t) => {
      const five = await Promise.all(Array.from({ length: 5 }, () => open('127.0.0.5')));
      t.ok(five.every((outcome) => outcome.kind === 'open'), 'five open');
      const sixth = await open('127.0.0.5');
      t.match(sixth, { kind: 'refused', status: 429, body: { error: 'too_many_connections' } });
      t.equal((await open('127.0.0.6')).kind, 'open', 'another address connects');
      const first = five[0] as Extract<Outcome, { kind: 'open' }>;
      first.socket.close();
      await first.closed;
      // The gateway sees the close a moment after the client: retried until it has.
      let again: Outcome = await open('127.0.0.5');
      for (let tries = 0; again.kind !== 'open' && tries < 20; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        again = await open('127.0.0.5');
      }
      t.equal(again.kind, 'open', 'once one closed, the address connects again');
    });

    await t.test('behind a trusted proxy, each client X-Forwarded-For names has its own cap; from anyone else the header is not believed', async (t) => {
      const proxied = await Promise.all(Array.from({ length: 5 }, () => open('127.0.0.30', token, '198.51.100.1')));
      t.ok(proxied.every((outcome) => outcome.kind === 'open'), 'five open for one client through the proxy');
      t.match(await open('127.0.0.30', token, '198.51.100.1'), { kind: 'refused', body: { error: 'too_many_connections' } }, 'its sixth is refused');
      t.equal((await open('127.0.0.30', token, '198.51.100.2')).kind, 'open', 'another client through the same proxy connects');
      const spoofed = await Promise.all(Array.from({ length: 5 }, (_, n) => open('127.0.0.31', token, `198.51.100.${10 + n}`)));
      t.ok(spoofed.every((outcome) => outcome.kind === 'open'), 'five from an untrusted peer, each naming another client');
      t.match(await open('127.0.0.31', token, '198.51.100.99'), { kind: 'refused', body: { error: 'too_many_connections' } }, 'counted as that peer\'s all the same');
    });

    await t.test('new websockets per address and minute: then 429 rate_limited with Retry-After', async (t) => {
      // The minutes are the clock's: counting up to the limit must not straddle one's end.
      await freshMinute(15);
      const outcomes: Outcome[] = [];
      for (let n = 0; n < 13; n++) {
        const outcome = await open('127.0.0.7');
        outcomes.push(outcome);
        if (outcome.kind === 'open') outcome.socket.close();
      }
      t.same(outcomes.map((outcome) => outcome.kind), [...Array(12).fill('open'), 'refused']);
      t.match(outcomes[12], { status: 429, body: { error: 'rate_limited' } });
      const retryAfter = Number((outcomes[12] as { retryAfter?: string }).retryAfter);
      t.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter} s`);
    });

    await t.test('failed authentications per address: after the limit, no more upgrades this minute', async (t) => {
      await freshMinute(15);
      for (let n = 0; n < 3; n++) {
        const outcome = await open('127.0.0.8', 'f'.repeat(32));
        t.equal(outcome.kind === 'open' && (await outcome.closed), 4001, `guess ${n + 1}: 4001`);
      }
      t.match(await open('127.0.0.8'), { kind: 'refused', status: 429, body: { error: 'rate_limited', message: /failed authentications/ } }, 'even with a valid token');
      t.equal((await open('127.0.0.9')).kind, 'open', 'another address connects');
    });
  });
}

gatewayLimitSuite(t, 'npm start, uWS', () => startEmbedded({ ...LIMITS, ...transportEnv('uws') }), transportSkip('uws', 1));
gatewayLimitSuite(t, 'npm start, ws', () => startEmbedded({ ...LIMITS, ...transportEnv('ws') }));
gatewayLimitSuite(t, 'circus.ini processes', () => startMultiprocess(LIMITS, { gateway: 1 }));

t.test('circus.ini processes, two gateways: failed authentications are counted together', async (t) => {
  const system = await startMultiprocess(LIMITS, { gateway: 2 });
  t.teardown(() => system.stop());
  const redis = new Redis(TEST_REDIS_URL);
  t.teardown(() => redis.disconnect());
  const { token } = await new Http(system.apiUrl).user();
  // Once the system is up (which can take most of a minute on a loaded machine): the minutes are the clock's.
  await freshMinute(30);
  // The kernel spreads new connections over both gateway processes.
  for (let n = 0; n < 3; n++) {
    const outcome = await connect(system.wsUrl, '127.0.0.20', 'f'.repeat(32));
    t.equal(outcome.kind === 'open' && (await outcome.closed), 4001, `guess ${n + 1}: 4001`);
  }
  await eventually(async () => (await redis.get((await redis.keys(`${system.redis!.prefix}wc:auth-failures:*:127.0.0.20`))[0] ?? 'none')) === '3');
  t.pass('both processes have shared their counts: 3 in Redis');
  // A process learns an address's failures at its next share after the first upgrade that asks
  // (one a second): so, one upgrade a second, each admits one at most, then neither does.
  const later: Outcome[] = [];
  await eventually(async () => {
    const outcome = await connect(system.wsUrl, '127.0.0.20', token);
    if (outcome.kind === 'open') outcome.socket.terminate();
    later.push(outcome);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    return later.length >= 4 && later.slice(-4).every((each) => each.kind === 'refused');
  }, 30_000);
  const admitted = later.filter((outcome) => outcome.kind === 'open').length;
  t.ok(admitted <= 2, `${admitted} admitted after the limit (counting apart, each process would admit until its own 3 failures)`);
  t.match(later.at(-1), { kind: 'refused', status: 429, body: { error: 'rate_limited', message: /failed authentications/ } });
});
