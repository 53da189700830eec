/**
 * The systems the per-user durable benchmark drives, behind one interface: bare uWebSockets.js
 * with a topic per client (the ceiling, not durable), NATS JetStream (the durable peer) and
 * Pushwire in its layouts. Each has C destinations (a queue, a topic or a subject per client),
 * one websocket client per destination, and publishes that resolve once the server acknowledged
 * (for the durable ones: stored).
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import type { System } from '../test/helpers/system.js';
import { createDatabase } from '../test/helpers/services.js';
import { startBaseline, startDurableFloor, type Baseline } from './baseline.js';
import { natsClients, startJetStream } from './jetstream.js';
import { HttpPoster, openWire } from './wire.js';

export interface Target {
  readonly name: string;
  /** Creates `count` destinations (users with their own queue, topics, subjects). */
  prepare(count: number): Promise<void>;
  /**
   * Connects client `index` to its destination; `since` asks for everything stored from the
   * start (catch-up) instead of only new messages. Resolves once it is subscribed.
   */
  connect(index: number, onFrame: (text: string) => void, since?: 'start'): Promise<{ close(): void }>;
  /** Publishes to destination `index`; resolves when acknowledged. */
  publish(index: number, message: string): Promise<void>;
  /** Many publishes in one request, when the system has one; results in order (true: stored). */
  publishBatch?(items: { index: number; message: string }[]): Promise<boolean[]>;
  /** The server's processes (pinned to the server core; CPU measured). */
  pids(): number[];
  /** Processes of the databases it stores in (PostgreSQL backends, Redis), measured apart. */
  databasePids(): Promise<number[]>;
  close(): Promise<void>;
}

/**
 * The generator's own lean HTTP and websocket clients (wire.ts): with node:http and `ws` it spent
 * more of its core per message than bare uWS's server does, so every system measured it.
 */
const poster = new HttpPoster();
const post = (url: string, body: string) => poster.post(url, body);

/** Bounded parallelism for set-up requests. */
export async function inParallel(count: number, concurrency: number, work: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(count, concurrency) }, async () => {
    while (next < count) await work(next++);
  }));
}

function openSocket(url: string, onFrame: (text: string) => void, first?: string, readyWhen?: (text: string) => boolean): Promise<{ close(): void }> {
  return new Promise((resolve, reject) => {
    const socket = openWire(url, {
      onOpen: (wire) => {
        if (first) wire.send(first);
        if (!readyWhen) resolve(wire);
      },
      onText: (text) => (readyWhen?.(text) ? resolve(socket) : onFrame(text)),
      onEnd: (reason) => reject(new Error(`${url}: ${reason}`)),
    });
  });
}

/** A bare uWS baseline with a topic per client (`/?id=N` to read, `POST /publish/N` to publish). */
function topicPerClient(name: string, server: Baseline, rest: Pick<Target, 'databasePids' | 'close'>): Target {
  return {
    name,
    prepare: async () => {},
    connect: (index, onFrame) => openSocket(`ws://127.0.0.1:${server.port}/?id=${index}`, onFrame),
    publish: async (index, message) => void (await post(`${server.url}/publish/${index}`, message)),
    pids: () => [server.pid],
    ...rest,
  };
}

export async function bareUwsTopics(): Promise<Target> {
  const server = await startBaseline('uws-topics');
  return topicPerClient('bare uWS, a topic per client (not durable)', server, { databasePids: async () => [], close: async () => server.close() });
}

/**
 * Bare uWS storing each message in PostgreSQL before delivering it (durable-floor-server.ts): what
 * durability alone costs with Pushwire's parts, the floor under every per-user figure.
 */
export async function durableFloor(): Promise<Target> {
  const database = await createDatabase();
  const server = await startDurableFloor(database.url);
  return topicPerClient('bare uWS + PostgreSQL, the durable floor', server, {
    databasePids: () => databasePidsOf({ databaseUrl: database.url }),
    close: async () => {
      server.close();
      await database.drop();
    },
  });
}

export async function jetStream(): Promise<Target> {
  const server = await startJetStream();
  const nats = await natsClients();
  const publisher = await nats.connect({ servers: server.url });
  const manager = await nats.jetstreamManager(publisher);
  await manager.streams.add({ name: 'PW', subjects: ['pw.>'], storage: 'file' as never });
  const js = nats.jetstream(publisher);
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  let generation = 0;
  return {
    name: 'NATS JetStream (file storage, acked publish, websocket consumers)',
    // Each preparation gets subjects of its own, so a catch-up never sees an earlier run's messages.
    prepare: async () => void generation++,
    connect: async (index, onFrame, since) => {
      const connection = await nats.wsconnect({ servers: server.wsUrl });
      const consumer = await nats.jetstream(connection).consumers.get('PW', {
        filter_subjects: `pw.g${generation}.c${index}` as never, deliver_policy: (since ? 'all' : 'new') as never,
      });
      const messages = await consumer.consume();
      void (async () => {
        for await (const message of messages) onFrame(decoder.decode(message.data));
      })();
      return { close: () => void connection.close() };
    },
    publish: async (index, message) => void (await js.publish(`pw.g${generation}.c${index}`, encoder.encode(message))),
    pids: () => [server.pid],
    databasePids: async () => [],
    close: async () => {
      await publisher.close();
      server.close();
    },
  };
}

/** PostgreSQL's backends serving this database, and Redis's process: where a Pushwire pushes work out of its own processes. */
async function databasePidsOf(system: Pick<System, 'databaseUrl'> & Partial<Pick<System, 'redis'>>): Promise<number[]> {
  const pids: number[] = [];
  if (system.databaseUrl) {
    const client = new pg.Client({ connectionString: system.databaseUrl });
    await client.connect();
    const { rows } = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
    await client.end();
    pids.push(...rows.map((row) => row.pid));
  }
  if (system.redis) {
    const redis = new Redis(system.redis.url);
    const info = await redis.info('server');
    redis.disconnect();
    pids.push(Number(/process_id:(\d+)/.exec(info)![1]));
  }
  return pids;
}

export function pushwire(name: string, system: System): Target {
  let users: { token: string; queue: string }[] = [];
  return {
    name,
    prepare: async (count) => {
      users = new Array(count);
      await inParallel(count, 32, async (index) => {
        users[index] = JSON.parse(await post(`${system.apiUrl}/token/`, '')) as { token: string; queue: string };
      });
    },
    connect: (index, onFrame, since) => openSocket(system.wsUrl, onFrame,
      JSON.stringify(since ? { token: users[index].token, since: '0', limit: 1000 } : { token: users[index].token }),
      (text) => text.startsWith('{"type":"hello"')),
    publish: async (index, message) => void (await post(users[index].queue, message)),
    publishBatch: async (items) => {
      const answer = await post(`${system.apiUrl}/publish`, `{"messages":[${items.map(({ index, message }) => `{"queue":"${users[index].queue}","message":${message}}`).join(',')}]}`);
      const { results } = JSON.parse(answer) as { results: { key?: string }[] };
      return results.map((result) => result.key !== undefined);
    },
    pids: () => system.pids(),
    databasePids: () => databasePidsOf(system),
    close: () => system.stop(),
  };
}
