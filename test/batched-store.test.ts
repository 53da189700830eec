import t from 'tap';
import { SqlStore } from '../core/store/sql-store.js';
import { batchedStore } from '../gateway/batched-store.js';
import { freshPgDbs } from './helpers/services.js';
import { watchedDb } from './helpers/watched-db.js';

t.test('the repairs connections ask for together go to the store as one query per 100', async (t) => {
  const [db] = await freshPgDbs(t, 4);
  const statements: string[] = [];
  const store = new SqlStore(watchedDb(db, ({ text, name }) => statements.push(name ?? text)));
  await store.migrate();
  const users = await Promise.all(Array.from({ length: 150 }, (_, n) => store.createUser(`token-${n}`, `queue-${n}`)));
  await store.append(users.flatMap(({ user, queue }) => [1, 2, 3].map((n) => ({
    queueId: queue.id, queue: queue.name, userId: user.id, kind: 'message' as const, replaceId: null, body: { title: `${user.id}-${n}` }, ttlSeconds: 60,
  }))));
  statements.length = 0;
  const { history } = batchedStore(store);
  // As after a bus outage: every connection repairs what it missed, in the same turn.
  const pages = await Promise.all(users.map(({ user }) => history.range({ userId: user.id, afterSeq: 1, uptoSeq: 3, max: 10 })));
  t.same(pages.map((page) => page.map((m) => m.body.title)), users.map(({ user }) => [`${user.id}-2`, `${user.id}-3`]), 'each got its own range');
  t.same(statements, ['ranges', 'ranges'], '150 repairs, two queries');
});
