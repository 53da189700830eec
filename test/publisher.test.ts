import t from 'tap';
import { Publisher } from '../api/publisher.js';
import type { BusPublisher } from '../core/bus/bus.js';
import { PushwireError } from '../core/errors.js';
import { createLogger } from '../core/log.js';
import type { StoredMessage } from '../core/message.js';
import { PgDb } from '../core/store/db.js';
import { SqlStore } from '../core/store/sql-store.js';
import type { NewMessage, Store } from '../core/store/store.js';
import { createDatabase } from './helpers/services.js';

const log = createLogger('test', 'silent');
const message = (queueId: number): NewMessage => ({ queueId, queue: `q${queueId}`, userId: 1, kind: 'message', replaceId: null, body: { title: 't' }, ttlSeconds: 60 });

function fakes(append: (batch: readonly NewMessage[]) => Promise<(StoredMessage | null)[]>) {
  const batches: number[] = [];
  const published: StoredMessage[] = [];
  const store = { append: async (batch: readonly NewMessage[]) => { batches.push(batch.length); return append(batch); } } as unknown as Store;
  const bus = { publishMessage: (stored: StoredMessage) => published.push(stored) } as unknown as BusPublisher;
  return { store, bus, batches, published };
}

let seq = 0;
const stored = (batch: readonly NewMessage[]) =>
  Promise.resolve(batch.map((m) => (m.queueId === 404 ? null : { userId: m.userId, seq: ++seq, queue: `q${m.queueId}`, micros: 0, kind: m.kind, replaceId: null, body: m.body })));

t.test('publishes arriving together share one transaction, then reach the bus in order', async (t) => {
  const { store, bus, batches, published } = fakes(stored);
  const publisher = new Publisher(store, bus, { commitsInFlight: 4, max: 100, parallelFrom: 1 }, log);
  const results = await Promise.all([1, 2, 3].map((queue) => publisher.publish(message(queue))));
  t.same(batches, [3], 'one append for three publishes');
  t.same(results.map((r) => r.queue), ['q1', 'q2', 'q3']);
  t.same(published, results, 'published after commit, in order');
  t.same([...publisher.touchedQueues].sort(), [1, 2, 3]);
});

/** Fakes whose first append waits until `release()`: a transaction kept in flight. */
function firstCommitHeld() {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  const held = fakes(async (batch) => {
    if (held.batches.length === 1) await gate;
    return stored(batch);
  });
  return { ...held, release };
}

t.test('a lone publish commits at once; while every transaction is busy, later publishes gather into the next', async (t) => {
  const { store, bus, batches, release } = firstCommitHeld();
  const publisher = new Publisher(store, bus, { commitsInFlight: 1, max: 100, parallelFrom: 1 }, log);
  const first = publisher.publish(message(1));
  await new Promise((resolve) => setImmediate(resolve));
  t.same(batches, [1], 'committing without waiting for company');
  const later = [2, 3, 4].map((queue) => publisher.publish(message(queue)));
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
  t.same(batches, [1], 'the rest wait while the only transaction runs');
  release();
  await Promise.all([first, ...later]);
  t.same(batches, [1, 3], 'then share one');
});

t.test('while a transaction runs, another starts beside it only once enough publishes wait', async (t) => {
  const { store, bus, batches, release } = firstCommitHeld();
  const publisher = new Publisher(store, bus, { commitsInFlight: 4, max: 100, parallelFrom: 3 }, log);
  const user = (i: number) => publisher.publish({ ...message(i), userId: 100 + i });
  const first = user(1);
  await new Promise((resolve) => setImmediate(resolve));
  t.same(batches, [1], 'the first commits at once');
  const few = [user(2), user(3)];
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
  t.same(batches, [1], 'two waiting: they wait for the running transaction');
  const third = user(4);
  await Promise.all([...few, third]);
  t.same(batches, [1, 3], 'the third makes a batch worth its own transaction, beside the held one');
  release();
  await first;
});

t.test('a user with a transaction in flight waits for it; other users do not', async (t) => {
  const { store, bus, batches, release } = firstCommitHeld();
  const publisher = new Publisher(store, bus, { commitsInFlight: 4, max: 100, parallelFrom: 1 }, log);
  const hot = (i: number) => publisher.publish({ ...message(i), userId: 7 });
  const first = hot(1);
  await new Promise((resolve) => setImmediate(resolve));
  const later = [hot(2), hot(3)];
  const other = publisher.publish({ ...message(4), userId: 8 });
  await other;
  t.same(batches, [1, 1], 'the other user committed alone, at once');
  release();
  const results = await Promise.all([first, ...later]);
  t.same(batches, [1, 1, 2], 'the hot user\'s next two shared one transaction after the first');
  t.same(results.map((r) => r.queue), ['q1', 'q2', 'q3'], 'in order');
});

t.test('a transaction holds at most `max` publishes', async (t) => {
  const { store, bus, batches } = fakes(stored);
  const publisher = new Publisher(store, bus, { commitsInFlight: 4, max: 2, parallelFrom: 1 }, log);
  await Promise.all([1, 2, 3, 4, 5].map((queue) => publisher.publish(message(queue))));
  t.same(batches, [2, 2, 1]);
});

t.test('a message whose queue vanished fails alone; a failed commit fails the batch as unavailable, publishing nothing', async (t) => {
  const ok = fakes(stored);
  const publisher = new Publisher(ok.store, ok.bus, { commitsInFlight: 4, max: 100, parallelFrom: 1 }, log);
  const [good, gone] = await Promise.allSettled([publisher.publish(message(1)), publisher.publish(message(404))]);
  t.equal(good.status, 'fulfilled');
  t.match(gone, { status: 'rejected', reason: { code: 'queue_not_found' } });
  const broken = fakes(() => Promise.reject(new Error('connection refused')));
  const failing = new Publisher(broken.store, broken.bus, { commitsInFlight: 4, max: 100, parallelFrom: 1 }, log);
  const error = await failing.publish(message(1)).catch((e: unknown) => e);
  t.type(error, PushwireError);
  t.equal((error as PushwireError).code, 'unavailable');
  t.equal((error as PushwireError).status, 503);
  t.same(broken.published, []);
});

t.test('drain commits what waits', async (t) => {
  const { store, bus, batches } = fakes(stored);
  const publisher = new Publisher(store, bus, { commitsInFlight: 4, max: 100, parallelFrom: 1 }, log);
  const pending = publisher.publish(message(1));
  await publisher.drain();
  t.same(batches, [1]);
  await pending;
});

t.test('a message PostgreSQL refuses fails alone: the batch it shared is retried without it', async (t) => {
  const database = await createDatabase();
  const db = new PgDb(database.url, () => {});
  t.teardown(async () => {
    await db.close();
    await database.drop();
  });
  const store = new SqlStore(db);
  await store.migrate();
  const { user, queue } = await store.createUser('refused-token', 'refused-queue');
  const published: StoredMessage[] = [];
  const bus = { publishMessage: (message: StoredMessage) => published.push(message) } as unknown as BusPublisher;
  const publisher = new Publisher(store, bus, { commitsInFlight: 1, max: 100, parallelFrom: 1 }, log);
  // A NUL in a replaceId: text cannot hold it.
  const titles = ['a', 'b', 'bad', 'c', 'd', 'e', 'f'];
  const results = await Promise.allSettled(titles.map((title) => publisher.publish({
    ...message(queue.id), queue: queue.name, userId: user.id, body: { title }, replaceId: title === 'bad' ? 'bad\u0000' : null,
  })));
  t.match(results[2], { status: 'rejected', reason: { code: 'invalid_field', status: 400 } }, 'the refused one');
  const stored = results.filter((r): r is PromiseFulfilledResult<StoredMessage> => r.status === 'fulfilled').map((r) => r.value);
  t.same(stored.map((m) => m.body.title), ['a', 'b', 'c', 'd', 'e', 'f'], 'every neighbour stored');
  t.same(stored.map((m) => m.seq), [1, 2, 3, 4, 5, 6], 'contiguous: the refused attempts took no sequence numbers');
  t.same(published.map((m) => m.seq), [1, 2, 3, 4, 5, 6], 'and reached the bus in order');
  const read = await store.read({ userId: user.id, limit: 100, collapse: false });
  t.same(read.messages.map((m) => m.body.title), ['a', 'b', 'c', 'd', 'e', 'f']);
});
