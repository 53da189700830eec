import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Backoff, createClient, fileKeyStore, type ClientEvents, type ClientOptions, type PushwireClient } from '../../sdk/node.js';
import { eventually, Http, sleep } from '../helpers/client.js';
import { pidOfGateway } from '../helpers/system.js';
import { systemFor, type TransportName } from '../helpers/transports.js';

/** Runs this file's tests with the gateways on `transport` (skipped where it cannot run). */
export function sdkTests(transport: TransportName): void {
  // The Node client against circus.ini's processes (two gateways, two api processes) on real
  // PostgreSQL, Redis and ZeroMQ: resume, drain, restarts, a frozen gateway, rotation.
  const system = systemFor(t, transport, 'multiprocess');
  if (!system) return;

  const http = () => new Http(system().apiUrl);

  /** A started client that records everything it emits. */
  const recorded = (options: Partial<ClientOptions> & { token: string }) => {
    const client = createClient({ api: system().apiUrl, backoff: { initialMs: 100, maxMs: 1000 }, ...options });
    const events: { [E in keyof ClientEvents]: ClientEvents[E][] } = { message: [], read: [], 'read-marker': [], connected: [], disconnected: [], catchup: [], state: [], error: [] };
    for (const name of Object.keys(events) as (keyof ClientEvents)[]) client.on(name, (payload) => (events[name] as unknown[]).push(payload));
    client.start();
    const keys = () => events.message.map((message) => message.key);
    return { client, events, keys };
  };

  const connected = (client: PushwireClient) => eventually(() => client.state === 'connected', 15_000);

  t.test('backoff: full jitter under a doubling ceiling, capped, reset after a connection', async (t) => {
    const top = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0.9999 });
    t.same([1, 2, 3, 4, 5, 6].map(() => top.next()), [99, 199, 399, 799, 999, 999]);
    top.reset();
    t.equal(top.next(), 99, 'back to the first ceiling');
    const half = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0.5 });
    t.same([half.next(), half.next()], [50, 100], 'uniform over [0, ceiling)');
  });

  t.test('live messages, reads and read markers reach every client of the user, each key once', async (t) => {
    const { token, queue } = await http().user();
    const one = recorded({ token });
    const two = recorded({ token });
    await Promise.all([connected(one.client), connected(two.client)]);
    await sleep(300);
    const first = await http().publish(queue, { title: 'one' });
    await eventually(() => one.keys().length === 1 && two.keys().length === 1);
    t.same(one.events.message[0], first, 'the envelope as published');
    await one.client.markRead(first);
    await eventually(() => two.events.read.length === 1);
    t.equal(two.events.read[0].body.read, first.key, 'the other client learns what was read');
    const marker = await one.client.setReadMarker(queue, '1700000000');
    t.equal(Number(marker.timestamp), 1_700_000_000);
    await eventually(() => two.events['read-marker'].length === 1);
    t.equal(Number(two.events['read-marker'][0].body.timestamp), 1_700_000_000);
    t.same(await one.client.queues(), { 'example.com': queue });
    t.equal(await one.client.createQueue('other.example'), (await one.client.queues())['other.example']);
    one.client.stop();
    two.client.stop();
  });

  t.test('rotation: a dead gateway in /nodes/ costs one backoff, then the next one serves', async (t) => {
    const { token } = await http().user();
    const withDeadNode: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (!String(input).endsWith('/nodes/')) return response;
      const { nodes } = (await response.json()) as { nodes: string[] };
      return Response.json({ nodes: ['127.0.0.1:1', ...nodes] });
    };
    const { client, events } = recorded({ token, fetch: withDeadNode });
    await connected(client);
    t.equal(events.disconnected.length, 1, 'one failed attempt');
    t.ok(events.disconnected[0].retryInMs! < 100, 'waited a jittered first backoff');
    t.equal(client.node, new URL(system().wsUrl).host, 'then connected to the live gateway');
    client.stop();
  });

  t.test('resume across a process restart: a new client with the same key file gets exactly what it missed', async (t) => {
    const { token, queue } = await http().user();
    const file = join(mkdtempSync(join(tmpdir(), 'pushwire-sdk-')), 'last-key');
    const before = recorded({ token, store: fileKeyStore(file) });
    await connected(before.client);
    await sleep(300);
    const seen = await http().publish(queue, { title: 'seen' });
    await eventually(() => before.keys().length === 1);
    before.client.stop();
    t.equal(readFileSync(file, 'utf8'), seen.key, 'the key is on disk');
    const missed = [];
    for (const title of ['a', 'b', 'c']) missed.push((await http().publish(queue, { title })).key);
    const after = recorded({ token, store: fileKeyStore(file) });
    await eventually(() => after.keys().length === 3);
    await sleep(300);
    t.same(after.keys(), missed, 'the three missed, nothing before them, nothing twice');
    after.client.stop();
  });

  /** Publishes `count` messages one after another while `during` runs; resolves with their keys. */
  async function publishDuring(queue: string, count: number, during: Promise<unknown>): Promise<string[]> {
    const keys: string[] = [];
    let done = false;
    void during.finally(() => { done = true; });
    for (let i = 0; i < count || !done; i++) {
      keys.push((await http().publish(queue, { title: `m${i}` })).key);
      await sleep(10);
    }
    return keys;
  }

  t.test('gateways drained and restarted while publishing: clients follow the reconnect frame, nothing lost or repeated', async (t) => {
    const users = await Promise.all([1, 2, 3, 4].map(() => http().user()));
    const clients = users.map(({ token }) => recorded({ token }));
    await Promise.all(clients.map(({ client }) => connected(client)));
    await sleep(300);
    const published = await Promise.all(users.map(({ queue }) => publishDuring(queue, 20, system().restart('gateway', 'SIGTERM'))));
    await Promise.all(clients.map(({ keys }, i) => eventually(() => keys().length >= published[i].length, 20_000)));
    await sleep(300);
    clients.forEach(({ keys, events }, i) => {
      t.same(keys(), published[i], `client ${i}: all ${published[i].length} keys once, in order`);
      t.ok(events.connected.length >= 2, 'reconnected');
    });
    clients.forEach(({ client }) => client.stop());
  });

  t.test('gateways killed: backoff until they are back, then catch-up collapsed by replaceId', async (t) => {
    const { token, queue } = await http().user();
    const { client, keys, events } = recorded({ token });
    await connected(client);
    await sleep(300);
    const before = await http().publish(queue, { title: 'before' });
    await eventually(() => keys().length === 1);
    await system().stopRole('gateway', 'SIGKILL');
    await eventually(() => client.state !== 'connected');
    const score = [];
    for (const goals of [1, 2, 3]) score.push(await http().publish(queue, { title: `score ${goals}`, replaceId: 'score' }));
    const other = await http().publish(queue, { title: 'other' });
    await sleep(1000);
    t.ok(events.disconnected.length >= 2, `retried with backoff while down (${events.disconnected.map((d) => d.retryInMs).join(', ')} ms)`);
    await system().startRole('gateway');
    await eventually(() => keys().length === 3, 20_000);
    await sleep(300);
    t.same(keys(), [before.key, other.key, score[2].key].sort(), 'the newest score only, at its own position, and the other message');
    t.ok(events.catchup.some((c) => c.count === 2), 'one catch-up of two');
    client.stop();
  });

  t.test('a frozen gateway (SIGSTOP) is found dead by pings and left for a live one', async (t) => {
    const { token, queue } = await http().user();
    const { client, keys, events } = recorded({ token, pingIntervalMs: 200, pongTimeoutMs: 300 });
    await connected(client);
    // Freeze exactly the process this client is on.
    const pid = pidOfGateway(events.connected[0].gateway);
    process.kill(pid, 'SIGSTOP');
    t.teardown(() => process.kill(pid, 'SIGCONT'));
    const during = await http().publish(queue, { title: 'while frozen' });
    await eventually(() => keys().length === 1, 20_000);
    t.same(keys(), [during.key], 'delivered through another gateway process');
    t.ok(events.disconnected.some((d) => d.reason === 'no answer to pings'), 'the frozen socket was given up');
    t.not(events.connected.at(-1)!.gateway, events.connected[0].gateway);
    process.kill(pid, 'SIGCONT');
    client.stop();
  });

  t.test('an unknown token stops the client: invalid_token, no retry', async (t) => {
    const { client, events } = recorded({ token: 'f'.repeat(40) });
    await eventually(() => client.state === 'stopped', 10_000);
    t.equal(events.error[0]?.code, 'invalid_token');
    t.same(events.disconnected.map((d) => d.retryInMs), [null]);
    t.equal(events.connected.length, 0);
  });

  t.test('a refused token is replaced through refreshToken: the client reconnects with the new one, for HTTP calls too', async (t) => {
    const { token, queue } = await http().user();
    const refused: string[] = [];
    const { client, events, keys } = recorded({ token: 'e'.repeat(40), refreshToken: async (old) => (refused.push(old), token) });
    await connected(client);
    t.same(refused, ['e'.repeat(40)], 'asked once, with the refused token');
    t.equal(client.token, token);
    t.same(events.disconnected.map((d) => d.code), [4001], 'one refusal, then connected');
    t.equal(events.error.length, 0, 'no error: the hook answered');
    const sent = await http().publish(queue, { title: 'after refresh' });
    await eventually(() => keys().length === 1);
    t.equal(keys()[0], sent.key);
    t.same(await client.queues(), { 'example.com': queue }, 'HTTP calls carry the new token');
    client.stop();
  });

  t.test('refreshToken that fails stops the client with invalid_token', async (t) => {
    const { client, events } = recorded({ token: 'd'.repeat(40), refreshToken: () => Promise.reject(new Error('signed out')) });
    await eventually(() => client.state === 'stopped', 10_000);
    t.equal(events.error[0]?.code, 'invalid_token');
    t.match(events.error[0]?.message, /signed out/);
    t.same(events.disconnected.map((d) => d.retryInMs), [null]);
  });

  t.test('gatewayUrl: one websocket URL (a reverse proxy\'s), /nodes/ never asked', async (t) => {
    const { token, queue } = await http().user();
    const asked: string[] = [];
    const counting: typeof fetch = (input, init) => (asked.push(String(input)), fetch(input, init));
    // A path as a proxy without a rewrite passes it on: gateways take websockets on any path.
    const { client, keys } = recorded({ token, fetch: counting, gatewayUrl: new URL('/ws/', system().wsUrl).href });
    await connected(client);
    t.equal(client.node, new URL(system().wsUrl).host);
    await sleep(300);
    const sent = await http().publish(queue, { title: 'through one URL' });
    await eventually(() => keys().length === 1);
    t.equal(keys()[0], sent.key);
    t.notOk(asked.some((url) => url.endsWith('/nodes/')), 'no /nodes/ request');
    client.stop();
  });

  t.test('once, and a state event for every change of state', async (t) => {
    const { token, queue } = await http().user();
    const { client, events } = recorded({ token });
    const first: string[] = [];
    client.once('message', (message) => first.push(message.body.title as string));
    await connected(client);
    await sleep(300);
    await http().publish(queue, { title: 'one' });
    await http().publish(queue, { title: 'two' });
    await eventually(() => events.message.length === 2);
    t.same(first, ['one'], 'once: the first message only');
    client.stop();
    t.same(events.state.map((change) => `${change.previous}>${change.current}`), ['idle>connecting', 'connecting>connected', 'connected>stopped']);
  });

  t.test('catch-up larger than a page is fetched page by page, in order', async (t) => {
    const { token, queue } = await http().user();
    const keys: string[] = [];
    for (let i = 0; i < 25; i++) keys.push((await http().publish(queue, { title: `p${i}` })).key);
    const file = join(mkdtempSync(join(tmpdir(), 'pushwire-sdk-')), 'last-key');
    fileKeyStore(file).set(`${keys[0].slice(0, 12)}${'0'.repeat(12)}`); // the user's position before any message
    const paged = recorded({ token, limit: 10, store: fileKeyStore(file) });
    // The last page's messages come before its catchup frame: wait for both.
    await eventually(() => paged.keys().length === 25 && paged.events.catchup.length === 3);
    t.same(paged.keys(), keys);
    t.same(paged.events.catchup.map((c) => c.count), [10, 10, 5]);
    paged.client.stop();
  });
}
