import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import type { NewMessage, Queue } from '../core/store/store.js';
import { Sqlite } from '../core/store/sqlite/db.js';
import { migrate } from '../core/store/sqlite/schema.js';
import { SqliteStore } from '../core/store/sqlite/store.js';

/** The schema version before messages were kept in arrival order. */
const CLUSTERED_BY_USER = 4;

function open(t: Test): { sqlite: Sqlite; store: SqliteStore } {
  const dir = mkdtempSync(join(tmpdir(), 'pushwire-layout-'));
  const sqlite = new Sqlite(join(dir, 'pushwire.sqlite'));
  t.teardown(() => {
    sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { sqlite, store: new SqliteStore(sqlite) };
}

const message = (queue: Queue, title: string, replaceId: string | null = null): NewMessage =>
  ({ queueId: queue.id, queue: queue.name, userId: queue.userId, kind: 'message', replaceId, body: { title }, ttlSeconds: 3600 });

t.test('a database from before messages were kept in arrival order upgrades with every message, read and seq as they were', async (t) => {
  const { sqlite, store } = open(t);
  migrate(sqlite, CLUSTERED_BY_USER);
  const users = [];
  for (let index = 0; index < 3; index++) users.push(await store.createUser(`token-${index}`, `own-${index}`));
  const site = await store.queueForDomain(users[0].user.id, 'site.example', 'site-0');
  // Interleaved across users and queues, with a collapsing group and a deleted queue.
  for (let round = 0; round < 4; round++) {
    await store.append([...users.map(({ queue }) => message(queue, `r${round}`, round % 2 ? 'group' : null)), message(site, `s${round}`)]);
  }
  const gone = await store.queueForDomain(users[1].user.id, 'gone.example', 'gone-1');
  await store.append([message(gone, 'soon gone')]);
  await store.deleteQueue(gone.id);
  const ids = users.map(({ user }) => user.id);
  const reads = () => store.readFrames([
    ...ids.map((userId) => ({ userId, limit: 100, collapse: false, since: { seq: 0 } })),
    ...ids.map((userId) => ({ userId, limit: 100, collapse: true, since: { seq: 2 } })),
    { userId: ids[0], queueId: site.id, limit: 2, collapse: false, since: { seq: 0 } },
  ].map((request) => ({ ...request, dialect: 'pushwire' as const, publicUrl: 'http://h' })));
  const before = await reads();
  const seqsBefore = await store.lastSeqs(ids);

  migrate(sqlite);
  t.ok((sqlite.db.pragma('user_version', { simple: true }) as number) > CLUSTERED_BY_USER, 'migrated');
  t.same(await reads(), before, 'every read answers as before');
  t.same(await store.lastSeqs(ids), seqsBefore, 'every last seq as before');
  t.same(seqsBefore.get(ids[1]), 5, "the deleted queue's message still counts");
  const next = await store.append(users.map(({ queue }) => message(queue, 'after')));
  t.same(next.map((stored) => stored?.seq), ids.map((id) => seqsBefore.get(id)! + 1), 'appends continue each sequence');
});

t.test('a commit of messages for many users writes about a page and a half per message, not a page per user row and per index', async (t) => {
  const { sqlite, store } = open(t);
  migrate(sqlite);
  const queues: Queue[] = [];
  for (let index = 0; index < 500; index++) queues.push((await store.createUser(`token-${index}`, `own-${index}`)).queue);
  // A backlog of 20 each, so every user's rows fill pages of their own in a layout clustered by user.
  for (let round = 0; round < 20; round++) await store.append(queues.map((queue) => message(queue, `backlog ${round}`)));
  sqlite.db.pragma('wal_checkpoint(TRUNCATE)');
  // Then what 32 publishers in flight make: commits of a few messages, each for another user.
  const commits = 200;
  for (let commit = 0; commit < commits; commit++) {
    await store.append(Array.from({ length: 6 }, (_, index) => message(queues[(commit * 97 + index * 131) % queues.length], 'live')));
  }
  // wal_checkpoint answers [busy, frames in the WAL, frames checkpointed]: every page written since the truncation.
  const [{ log: frames }] = sqlite.db.pragma('wal_checkpoint(PASSIVE)') as { log: number }[];
  const perMessage = frames / (commits * 6);
  t.ok(perMessage < 1.8, `${perMessage.toFixed(2)} pages written per message`);
});
