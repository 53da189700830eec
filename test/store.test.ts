import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envelopeJson, publishAnswer, publishAnswerJson, toEnvelope, toFrame } from '../core/message.js';
import { frameOf } from '../core/store/frame-page.js';
import { encodeKey } from '../core/ids.js';
import { PgDb, type Db } from '../core/store/db.js';
import { migrations } from '../core/store/migrations.js';
import { SqlDevices } from '../core/store/sql-devices.js';
import { SqlOutbox } from '../core/store/sql-outbox.js';
import { SqlStore } from '../core/store/sql-store.js';
import type { NewMessage, Queue, ReadRequest, Store } from '../core/store/store.js';
import type { DeviceStore } from '../core/store/devices.js';
import type { PushOutbox } from '../core/store/outbox.js';
import { Sqlite } from '../core/store/sqlite/db.js';
import { openSqliteStores } from '../core/store/sqlite/remote.js';
import { createDatabase, freshPgDbs } from './helpers/services.js';
import { watchedDb } from './helpers/watched-db.js';

interface Opened {
  /** Stores on the same database (several: like several api processes). */
  stores: Store[];
  devices: DeviceStore;
  outbox: PushOutbox;
  /** Rows of messages left with this queue id, read from the database directly. */
  messagesInQueue(queueId: number): Promise<number>;
  /** Marks a device dead, as a provider's answer does, directly in the database. */
  expireDevice(deviceId: number): Promise<void>;
  close(): Promise<void>;
}

const sqlExtras = (db: Db) => ({
  devices: new SqlDevices(db),
  outbox: new SqlOutbox(db),
  messagesInQueue: async (queueId: number) =>
    (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM messages WHERE queue_id = $1', [queueId]))[0].n,
  expireDevice: async (deviceId: number) => void (await db.query("UPDATE devices SET expired_at = now(), expired_reason = 'unregistered' WHERE id = $1", [deviceId])),
});

/**
 * The tables PostgreSQL would read whole to run `statement` as the store sent it: its generic plan
 * (PREPARE + EXPLAIN EXECUTE, not run) on `explainer`, a connection set up as the store's own are.
 */
async function tablesReadWhole(explainer: Db, statement: { text: string; params: unknown[] }): Promise<string[]> {
  const literal = (value: unknown) => `'${(Array.isArray(value) ? `{${value.join(',')}}` : String(value)).replace(/'/g, "''")}'`;
  await explainer.exec('DEALLOCATE ALL');
  await explainer.exec(`PREPARE checked AS ${statement.text}`);
  const [row] = await explainer.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) EXECUTE checked(${statement.params.map(literal).join(', ')})`);
  const scanned: string[] = [];
  const walk = (node: Record<string, unknown>) => {
    if (node['Node Type'] === 'Seq Scan') scanned.push(String(node['Relation Name']));
    for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
  };
  walk((row['QUERY PLAN'] as { Plan: Record<string, unknown> }[])[0].Plan);
  return scanned;
}

/** One suite, run against PostgreSQL and embedded SQLite: both stores must behave the same. */
function storeSuite(t: Test, name: string, open: () => Promise<Opened>): void {
  t.test(name, async (t) => {
    const { stores, devices, outbox, messagesInQueue, expireDevice, close } = await open();
    const [store] = stores;
    let counter = 0;
    const fresh = async () => {
      const { user, queue } = await store.createUser(`token-${name}-${++counter}`, `own-${name}-${counter}`);
      const site = await store.queueForDomain(user.id, 'site.example', `site-${name}-${counter}`);
      return { user, own: queue, site };
    };
    const message = (queue: Queue, replaceId: string | null = null, ttlSeconds = 3600, title = 't'): NewMessage =>
      ({ queueId: queue.id, queue: queue.name, userId: queue.userId, kind: 'message', replaceId, body: { title }, ttlSeconds });

    await t.test('migrations run once', async (t) => {
      await store.migrate();
      await store.migrate();
      t.pass('migrating twice is harmless');
    });

    await t.test('sequences are per user, contiguous, in commit order, even from several connections at once', async (t) => {
      const { user, site } = await fresh();
      const other = await fresh();
      const writes = [];
      for (let round = 0; round < 20; round++) {
        for (const writer of stores) writes.push(writer.append([message(site), message(other.site), message(site)]));
      }
      const results = (await Promise.all(writes)).flat();
      const seqs = results.filter((m) => m!.userId === user.id).map((m) => m!.seq).sort((a, b) => a - b);
      t.same(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1), 'no gaps, no repeats');
      t.equal((await store.lastSeqs([user.id])).get(user.id), seqs.length);
      const times = (await store.ranges([{ userId: user.id, afterSeq: 0, uptoSeq: 1000, max: 1000 }]))[0].map((m) => m.micros);
      t.same(times, [...times].sort((a, b) => a - b), 'timestamps follow sequence order');
    });

    await t.test('values with quotes, backslashes, braces and commas survive every hot statement unchanged', async (t) => {
      const awkward = [`it's`, 'say "hi"', 'back\\slash \\\'', '{a,b}', 'NULL', 'ünï 😀', `'); DROP TABLE users; --`];
      const created = [];
      for (const [index, text] of awkward.entries()) created.push(await store.createUser(`${text} ${name} ${index}`, `${text} q ${name} ${index}`));
      const tokens = created.map(({ user }) => user.token);
      const found = await store.usersByTokens([...tokens, 'absent']);
      t.same(tokens.map((token) => found.get(token)?.id), created.map(({ user }) => user.id), 'usersByTokens');
      const names = created.map(({ queue }) => queue.name);
      const queues = await store.queuesByNames(names);
      t.same(names.map((queueName) => queues.get(queueName)?.id), created.map(({ queue }) => queue.id), 'queuesByNames');
      const stored = await store.append(created.map(({ queue }, index) => ({ ...message(queue, awkward[index], 3600, awkward[index]), body: { title: awkward[index], nested: { text: awkward[index], list: [awkward[index], null] } } })));
      t.ok(stored.every(Boolean), 'append');
      // What the append answers goes on the bus and into live frames: the body's text it keeps makes the same bytes as serialising the body.
      t.same(stored.map((m) => toFrame(m!, 'http://h"ost')), stored.map((m) => JSON.stringify({ type: m!.kind, ...toEnvelope(m!, 'http://h"ost') })), 'frames of what was stored');
      t.same(stored.map((m) => publishAnswerJson(m!, 'http://h"ost')), stored.map((m) => JSON.stringify(publishAnswer(m!, 'http://h"ost'))), 'publish answers of what was stored');
      const requests = created.map(({ user }) => ({ userId: user.id, limit: 10, collapse: true, since: { seq: 0 } }));
      const reads = await Promise.all(requests.map((request) => store.read(request)));
      t.same(reads.map((read) => read.messages.map((m) => [m.body, m.replaceId])), awkward.map((text) => [[{ title: text, nested: { text, list: [text, null] } }, text]]), 'read back exactly');
      // A store that answers bodies as JSON text has them spliced into frames: the same bytes as serialising the body.
      const frames = reads.flatMap((read) => read.messages).map((m) => [toFrame(m, 'http://h"ost'), JSON.stringify({ type: m.kind, ...toEnvelope(m, 'http://h"ost') })]);
      t.same(frames.map(([frame]) => frame), frames.map(([, serialised]) => serialised), 'frames of what was read');
      // Catch-up pages come as frames made where the rows were read (the embedded store's thread): the same bytes again.
      const pages = await store.readFrames(requests.map((request) => ({ ...request, dialect: 'pushwire' as const, publicUrl: 'http://h"ost' })));
      t.same(pages.flatMap((page) => page.frames), frames.map(([, serialised]) => serialised), 'catch-up frames of what was read');
      const lasts = await store.lastSeqs(created.map(({ user }) => user.id));
      t.same(created.map(({ user }) => lasts.get(user.id)), awkward.map(() => 1), 'lastSeqs');
      t.same((await store.ranges([{ userId: created[0].user.id, afterSeq: 0, uptoSeq: 1, max: 10 }]))[0].map((m) => m.body.title), [awkward[0]], 'range');
      t.ok((await store.usersByTokens(['users'])).size === 0 && (await store.queueCount(created[0].user.id)) === 1, 'and the tables are all still there');
    });

    await t.test('a value the database cannot hold refuses the whole batch as data (SQLSTATE 22), storing nothing', async (t) => {
      const { user, site } = await fresh();
      const error = await store.append([message(site, null, 3600, 'fine'), message(site, 'nul \u0000', 3600, 'fine too')]).catch((e: unknown) => e);
      t.match((error as { code?: string }).code, /^22/, 'a data error, which the publisher isolates');
      t.same((await store.lastSeqs([user.id])).get(user.id), 0, 'nothing stored, no sequence number taken');
    });

    await t.test('ranges: several in one call, each within its bounds and its maximum, in request order', async (t) => {
      const first = await fresh();
      const second = await fresh();
      const nobody = await fresh();
      await store.append([1, 2, 3, 4].map((n) => message(first.site, null, 3600, `a${n}`)));
      await store.append([1, 2, 3].map((n) => message(second.own, null, 3600, `b${n}`)));
      const pages = await store.ranges([
        { userId: second.user.id, afterSeq: 0, uptoSeq: 3, max: 2 },
        { userId: first.user.id, afterSeq: 1, uptoSeq: 3, max: 10 },
        { userId: nobody.user.id, afterSeq: 0, uptoSeq: 10, max: 10 },
        { userId: first.user.id, afterSeq: 0, uptoSeq: 4, max: 3 },
      ]);
      t.same(pages.map((page) => page.map((m) => m.body.title)), [['b1', 'b2'], ['a2', 'a3'], [], ['a1', 'a2', 'a3']]);
      t.same(pages[1].map((m) => [m.userId, m.seq, m.queue, m.kind]), [[first.user.id, 2, first.site.name, 'message'], [first.user.id, 3, first.site.name, 'message']]);
      t.same(await store.ranges([]), [], 'no request, no query');
    });

    await t.test('a message for a deleted queue is refused, the rest of the batch stored', async (t) => {
      const { user, site, own } = await fresh();
      const doomed = await store.queueForDomain(user.id, 'doomed.example', `doomed-${name}-${counter}`);
      await store.deleteQueue(doomed.id);
      const stored = await store.append([message(site), message(doomed), message(own)]);
      t.equal(stored[1], null);
      t.ok(stored[0] && stored[2]);
    });

    await t.test('a queue deleted while appends to it run leaves none of its messages behind', async (t) => {
      const { user, site } = await fresh();
      const doomed = await store.queueForDomain(user.id, 'racing.example', `racing-${name}-${counter}`);
      const writer = stores[stores.length - 1];
      const appends = Array.from({ length: 40 }, () => writer.append([message(doomed), message(site)]));
      const deleted = store.deleteQueue(doomed.id);
      const results = await Promise.all(appends);
      await deleted;
      t.ok(results.every((batch) => batch[1] !== null), 'the other queue of the user got every message');
      t.equal(await messagesInQueue(doomed.id), 0, 'no message of the deleted queue remains');
      t.equal((await store.read({ userId: user.id, limit: 1000, collapse: false })).messages.length, 40, 'the user reads the other queue only');
    });

    await t.test("no seq is given twice: not after deleting the queue that held a user's newest messages, nor after pruning all of them", async (t) => {
      const { user, own, site } = await fresh();
      await store.append([message(own), message(own), message(site), message(site)]);
      await store.deleteQueue(site.id);
      t.equal((await store.lastSeqs([user.id])).get(user.id), 4, 'lastSeqs counts what the deleted queue held');
      t.equal((await store.userByToken(user.token))?.lastSeq, 4, 'so does the user');
      t.same((await store.append([message(own)])).map((m) => m?.seq), [5], 'the next append follows it');
      t.equal(await store.prune(Date.now() * 1000, 1, [own.id]), 2, 'pruned down to a backlog of one');
      const expiring = await store.append([message(own, null, 1)]);
      await store.prune(Date.now() * 1000 + 7200 * 1_000_000, 10, []);
      t.same((await store.read({ userId: user.id, limit: 10, collapse: false })).messages, [], 'expiry pruned everything left');
      t.same((await store.append([message(own)])).map((m) => m?.seq), [expiring[0]!.seq + 1], 'and the next append still follows the last seq given');
      t.equal((await store.lastSeqs([user.id])).get(user.id), 7);
    });

    await t.test('read: collapse keeps the newest of each group at its position; limit after collapsing', async (t) => {
      const { user, site, own } = await fresh();
      await store.append([message(site, 'a', 3600, 'a1'), message(site, 'b', 3600, 'b1'), message(own, 'a', 3600, 'own-a'), message(site, 'a', 3600, 'a2'), message(site, null, 3600, 'x')]);
      const all = await store.read({ userId: user.id, limit: 10, collapse: true });
      t.same(all.messages.map((m) => m.body.title), ['b1', 'own-a', 'a2', 'x'], 'groups are per queue');
      const page = await store.read({ userId: user.id, queueId: site.id, limit: 2, collapse: true });
      t.same(page.messages.map((m) => m.body.title), ['b1', 'a2']);
      t.equal(page.more, true);
      const rest = await store.read({ userId: user.id, queueId: site.id, limit: 2, collapse: true, since: { seq: page.messages[1].seq } });
      t.same(rest.messages.map((m) => m.body.title), ['x']);
      t.equal(rest.more, false);
      const raw = await store.read({ userId: user.id, queueId: site.id, limit: 10, collapse: false });
      t.equal(raw.messages.length, 4, 'without collapsing every message');
      const byTime = await store.read({ userId: user.id, limit: 10, collapse: false, since: { micros: all.messages[0].micros } });
      t.ok(byTime.messages.every((m) => m.micros > all.messages[0].micros));
    });

    await t.test('readFrames answers several reads at once, each as read alone would, as frames of its dialect', async (t) => {
      const first = await fresh();
      const second = await fresh();
      await store.append([message(first.site, 'a', 3600, 'a1'), message(first.site, 'a', 3600, 'a2'), message(first.own, null, 3600, 'o')]);
      await store.append([message(second.site, null, 3600, 's1'), message(second.site, null, 3600, 's2')]);
      const requests = [
        { userId: first.user.id, limit: 10, collapse: true },
        { userId: second.user.id, limit: 1, collapse: false },
        { userId: first.user.id, queueId: first.site.id, limit: 10, collapse: false, since: { seq: 1 } },
        { userId: second.user.id, limit: 10, collapse: false, since: { seq: 2 } },
        { userId: 987_654_321, limit: 10, collapse: false },
      ];
      const dialects = ['pushwire', 'original', 'original', 'pushwire', 'pushwire'] as const;
      const together = await store.readFrames(requests.map((request, index) => ({ ...request, dialect: dialects[index], publicUrl: 'http://h' })));
      const alone = await Promise.all(requests.map((request) => store.read(request)));
      t.same(alone.map((r) => r.messages.map((m) => m.body.title)), [['a2', 'o'], ['s1'], ['a2'], [], []]);
      t.same(together.map((page) => page.frames), alone.map((r, index) => r.messages.map((m) => (dialects[index] === 'pushwire' ? toFrame : envelopeJson)(m, 'http://h'))), 'the frames of what read answers');
      t.same(together.map((page) => page.seqs), alone.map((r) => r.messages.map((m) => m.seq)));
      t.same(together.map((page) => page.collapseKeys), [[`${first.site.name} message a`, null], null, [`${first.site.name} message a`], null, null],
        'each frame collapses under its queue, kind and replaceId; a page where none collapses says so once');
      t.same(together.map((page) => [page.more, page.truncated]), alone.map((r) => [r.more, r.truncated]));
      t.same(together.map((page) => page.more), [false, true, false, false, false]);
    });

    await t.test('readFrames: any body, queue name, limit and position give the frames of what read answers, in both dialects', async (t) => {
      const { user, own, site } = await fresh();
      const awkward = [`it's`, 'say "hi"', 'line\nbreak', 'back\\slash', 'ünï 😀', '\u2028', 'x'.repeat(300)];
      await store.append(awkward.map((title, index) => ({ ...message(index % 2 ? site : own, null, 3600, title), body: { title, nested: [title, null] } })));
      // Another user's page names a queue whose URL needs escaping in JSON, and collapses.
      const other = await fresh();
      const odd = await store.queueForDomain(other.user.id, 'odd.example', `odd "q" ${name} ${++counter}`);
      await store.append([message(odd, null, 3600, 'odd'), message(other.own, 'r', 3600, 'collapses')]);
      // A timestamp whose microseconds start with a zero (".012345"): stored just after a whole second.
      const early = await fresh();
      for (let tries = 0; tries < 5; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 10));
        const [stored] = await store.append([message(early.own, null, 3600, 'early')]);
        if (stored!.micros % 1_000_000 < 100_000) break;
      }
      const requests: ReadRequest[] = [
        { userId: early.user.id, limit: 10, collapse: true },
        { userId: user.id, limit: 100, collapse: true },
        { userId: user.id, limit: 3, collapse: true },
        { userId: user.id, limit: 100, collapse: false, since: { seq: 2 } },
        { userId: user.id, queueId: own.id, limit: 2, collapse: true, since: { micros: 0 } },
        { userId: user.id, queueId: site.id, limit: 100, collapse: true },
        { userId: user.id, limit: 10, collapse: true, since: { seq: 100 } },
        { userId: user.id, limit: 1, collapse: false, since: { seq: 5 } },
        { userId: other.user.id, limit: 10, collapse: true },
      ];
      const reads = await Promise.all(requests.map((request) => store.read(request)));
      t.ok(reads[0].messages.some((m) => m.micros % 1_000_000 < 100_000), 'a timestamp with a leading zero in its microseconds');
      t.same(reads.slice(1).map((read) => [read.messages.length, read.more]), [[7, false], [3, true], [5, false], [2, true], [3, false], [0, false], [1, true], [2, false]], 'the reads hold what the test means');
      for (const dialect of ['pushwire', 'original'] as const) {
        const pages = await store.readFrames(requests.map((request) => ({ ...request, dialect, publicUrl: 'http://h"ost/ü' })));
        t.same(pages.map((page) => page.frames), reads.map((read) => read.messages.map((m) => frameOf[dialect](m, 'http://h"ost/ü'))), `${dialect}: the frames`);
        t.same(pages.map((page) => [page.seqs, page.more, page.truncated]), reads.map((read) => [read.messages.map((m) => m.seq), read.more, read.truncated]), `${dialect}: seqs, more, truncated`);
      }
    });

    await t.test('retention: backlog and expiry prune, and catch-up from before says truncated', async (t) => {
      const { user, site, own } = await fresh();
      await devices.register(user.id, { app: 'default', platform: 'fcm', token: `device-${name}` }, 100);
      // Nobody expands the checks here: still pending when the messages go.
      await store.append([1, 2, 3, 4, 5].map((i) => message(site, null, 3600, `s${i}`)));
      t.equal(await outbox.depth(), 5, 'a pending push per message of a user with a device');
      await store.append([message(own, null, 1, 'short-lived')]);
      t.equal((await store.read({ userId: user.id, limit: 10, collapse: false })).truncated, false);
      const other = await fresh();
      await store.append(['o1', 'o2', 'o3'].map((title) => message(other.site, null, 3600, title)));
      const removed = await store.prune(Date.now() * 1000 + 2_000_000, 2, [site.id, other.site.id, own.id]);
      t.equal(removed, 5, 'one expired, three past a backlog of two, and one of the other queue, in one sweep');
      t.same((await store.read({ userId: other.user.id, limit: 10, collapse: false })).messages.map((m) => m.body.title), ['o2', 'o3']);
      const left = await store.read({ userId: user.id, limit: 10, collapse: false });
      t.same(left.messages.map((m) => m.body.title), ['s4', 's5']);
      t.equal(left.truncated, true, 'from the start: truncated');
      const fromS4 = await store.read({ userId: user.id, queueId: site.id, limit: 10, collapse: false, since: { seq: 4 } });
      t.equal(fromS4.truncated, false, 'after what was pruned: not truncated');
      const fromS3 = await store.read({ userId: user.id, queueId: site.id, limit: 10, collapse: false, since: { seq: 3 } });
      t.equal(fromS3.truncated, false, 'the queue itself lost nothing after seq 3');
      const userFromS4 = await store.read({ userId: user.id, limit: 10, collapse: false, since: { seq: 4 } });
      t.equal(userFromS4.truncated, true, 'but the user lost seq 6 (expired) after seq 4');
      t.equal(await outbox.depth(), 2, 'pending pushes of pruned messages went with them');
    });

    await t.test("a device is one user's: another's live token is taken, a dead one is free, and the cap holds under concurrency", async (t) => {
      const [owner, other] = [await fresh(), await fresh()];
      const fcm = (token: string) => ({ app: 'default', platform: 'fcm' as const, token });
      const first = await devices.register(owner.user.id, fcm(`owned-${name}`), 100);
      if (first.outcome !== 'created') throw new Error(`registered: ${first.outcome}`);
      t.equal((await devices.register(owner.user.id, fcm(`owned-${name}`), 100)).outcome, 'updated', 'the owner again: updated');
      t.same(await devices.register(other.user.id, fcm(`owned-${name}`), 100), { outcome: 'taken' }, 'another user: taken');
      t.same((await devices.list(owner.user.id)).map((device) => device.token), [`owned-${name}`], 'still the owner\'s');
      t.same(await devices.list(other.user.id), []);
      await expireDevice(first.device.id);
      t.equal((await devices.register(other.user.id, fcm(`owned-${name}`), 100)).outcome, 'created', 'a token declared dead is nobody\'s');
      t.same(await devices.list(owner.user.id), []);

      const capped = await fresh();
      const outcomes = await Promise.all(Array.from({ length: 12 }, (_, index) => devices.register(capped.user.id, fcm(`cap-${name}-${index}`), 5)));
      t.same([outcomes.filter((o) => o.outcome === 'created').length, outcomes.filter((o) => o.outcome === 'full').length], [5, 7], '12 at once against a cap of 5');
      t.equal(await devices.count(capped.user.id), 5);
      const known = outcomes.find((o) => o.outcome === 'created');
      t.equal((await devices.register(capped.user.id, fcm(known?.outcome === 'created' ? known.device.token : ''), 5)).outcome, 'updated', 'a known device is updated at the cap');

      const racers = [await fresh(), await fresh()];
      const raced = await Promise.all(racers.map((racer) => devices.register(racer.user.id, fcm(`race-${name}`), 100)));
      t.same(raced.map((r) => r.outcome).sort(), ['created', 'taken'], 'two users registering one token at once: one gets it');
    });

    await t.test('idle users holding nothing but their own queue expire, with its messages; active, queued or device-holding ones stay', async (t) => {
      const now = Date.now() * 1000;
      const [idle, withDomain, withDevice, active] = [await fresh(), await fresh(), await fresh(), await fresh()];
      // `fresh` made a domain queue for each; only `withDomain` keeps it.
      for (const user of [idle, withDevice, active]) await store.deleteQueue(user.site.id);
      await store.append([message(idle.own, null, 3600, 'gone with the user')]);
      await devices.register(withDevice.user.id, { app: 'default', platform: 'fcm', token: `idle-${name}` }, 100);
      t.equal(await store.expireIdleUsers(now - 3_600_000_000, 100), 0, 'nobody idle for an hour yet');
      await store.touchUsers([active.user.id], now + 10_000_000);
      // Everyone else last active before `now + 5 s`.
      const expired = await store.expireIdleUsers(now + 5_000_000, 100);
      t.ok(expired >= 1, `expired ${expired}`);
      t.equal(await store.userByToken(idle.user.token), null, 'the idle user is gone');
      t.equal(await store.queueByName(idle.own.name), null, 'with its own queue');
      t.equal(await messagesInQueue(idle.own.id), 0, 'and its messages');
      for (const [kept, why] of [[withDomain, 'a domain queue'], [withDevice, 'a device'], [active, 'recent activity']] as const) {
        t.not(await store.userByToken(kept.user.token), null, `kept: ${why}`);
      }
      t.equal(await store.expireIdleUsers(now + 5_000_000, 100), 0, 'a second sweep finds nothing more');
    });

    await t.test('hasMessage, queues, markers', async (t) => {
      const { user, site } = await fresh();
      const [stored] = await store.append([message(site)]);
      t.equal(await store.hasMessage(user.id, stored!.seq), true);
      t.equal(await store.hasMessage(user.id, stored!.seq + 1), false);
      await store.setReadMarker(site.id, 1_700_000_000_000_000);
      t.equal((await store.queueByName(site.name))!.readMicros, 1_700_000_000_000_000);
      t.equal(await store.queueCount(user.id), 2);
      t.same((await store.queuesOf(user.id)).map((q) => q.domain), [null, 'site.example']);
      t.equal(await store.userByToken('nobody'), null);
    });

    // Last: expanding checks turns every due check of the database into jobs, earlier tests' too.
    await t.test('push checks: an offline user is pushed at once, a connected one after the ack timeout unless acknowledged; reads never', async (t) => {
      const [offline, silent, acking] = [await fresh(), await fresh(), await fresh()];
      for (const [index, { user }] of [offline, silent, acking].entries()) {
        await devices.register(user.id, { app: 'default', platform: 'fcm', token: `reach-${name}-${index}` }, 100);
      }
      const [toOffline, toSilent, toAcking] = await store.append([message(offline.site), message(silent.site), message(acking.site)]);
      const [read] = await store.append([{ ...message(offline.site), kind: 'read' }]);
      const asked: number[][] = [];
      const reach = async (userIds: number[]) => {
        asked.push(userIds);
        return { online: new Set([silent.user.id, acking.user.id]), acked: new Map([[acking.user.id, toAcking!.seq]]) };
      };
      const jobsOf = async (stored: typeof toOffline) => (await outbox.results(stored!.userId, stored!.seq)).length;
      const timeout = 10_000_000;
      const now = toAcking!.micros;
      t.equal(await outbox.anyDue(0), false, 'nothing is due before anything was stored');
      t.equal(await outbox.anyDue(now + 1_000), true, 'the checks are due');
      await outbox.expandDue(now + 1_000, 1000, timeout, reach);
      t.ok(asked.flat().includes(silent.user.id), 'presence was asked about the users of due checks');
      t.same([await jobsOf(toOffline), await jobsOf(toSilent), await jobsOf(toAcking), await jobsOf(read)], [1, 0, 0, 0],
        'the offline user at once; the connected ones wait; a read is never pushed');
      await outbox.expandDue(now + timeout / 2, 1000, timeout, reach);
      t.equal(await jobsOf(toSilent), 0, 'still within the ack timeout');
      await outbox.expandDue(now + timeout + 1_000, 1000, timeout, reach);
      t.same([await jobsOf(toOffline), await jobsOf(toSilent), await jobsOf(toAcking)], [1, 1, 0],
        'the silent connected user after the timeout; the acknowledged message never');
      const later = now + timeout + 1_000;
      const lease = 30_000_000;
      t.ok((await outbox.claim(later, 1000, lease)).length >= 2, 'both jobs claimed');
      t.equal(await outbox.anyDue(later), false, 'nothing is due while the jobs are leased and every check is decided');
      t.equal(await outbox.anyDue(later + lease + 1), true, 'the jobs are due again when their lease runs out');
    });
    await close();
  });
}

storeSuite(t, 'postgresql', async () => {
  const database = await createDatabase();
  // Two stores on two pools: like two api processes.
  // pg-pool resolves end() before its sockets have closed, so the drop may still reach them: that is not a failure.
  let closing = false;
  const failOnIdleError = (error: Error) => {
    if (!closing) t.fail(`idle connection error: ${error.message}`);
  };
  const dbs = [new PgDb(database.url, failOnIdleError), new PgDb(database.url, failOnIdleError)];
  const stores = dbs.map((db) => new SqlStore(db));
  await Promise.all(stores.map((store) => store.migrate()));
  return { stores, ...sqlExtras(dbs[0]), close: async () => {
    closing = true;
    await Promise.all(stores.map((store) => store.close()));
    await database.drop();
  } };
});

storeSuite(t, 'sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pushwire-store-'));
  // The stores as `npm start` uses them: on the database's own thread.
  const { store, devices, outbox } = await openSqliteStores(dir);
  const reader = new Sqlite(join(dir, 'pushwire.sqlite'));
  return {
    stores: [store], devices, outbox,
    messagesInQueue: async (queueId) => reader.get<{ n: number }>('SELECT count(*) AS n FROM messages WHERE queue_id = ?', queueId)!.n,
    expireDevice: async (deviceId) => void reader.run("UPDATE devices SET expired_at = ?, expired_reason = 'unregistered' WHERE id = ?", new Date().toISOString(), deviceId),
    close: async () => { reader.close(); await store.close(); rmSync(dir, { recursive: true, force: true }); },
  };
});

t.test('postgresql: every connection plans the statements generically, from its first statement on', async (t) => {
  const [db] = await freshPgDbs(t, 4);
  // Four at once: each on a new connection of the pool, each the connection's first statement.
  const answers = await Promise.all(Array.from({ length: 4 }, () => db.query<{ plan_cache_mode: string }>('SHOW plan_cache_mode')));
  t.same(answers.map(([row]) => row.plan_cache_mode), Array(4).fill('force_generic_plan'));
});

t.test('postgresql: storing a batch finds its users and queues through their indexes, not by reading the tables; a catch-up starts at its position', async (t) => {
  const [db, explainer] = await freshPgDbs(t, 2, 1);
  // The store's statements as it sends them, so the plan checked is the one it runs on.
  const sent = new Map<string, { text: string; params: unknown[] }>();
  const store = new SqlStore(watchedDb(db, ({ text, params, name }) => name && sent.set(name, { text, params })));
  await store.migrate();
  // As many users and queues as the benchmark's: the old plan read both tables whole there, for every batch.
  await db.exec(`INSERT INTO users (token) SELECT 'token-' || g FROM generate_series(1, 1000) g;
                 INSERT INTO queues (name, user_id) SELECT 'queue-' || id, id FROM users`);
  const queues = await db.query<{ id: number; name: string; user_id: number }>('SELECT id, name, user_id FROM queues ORDER BY id LIMIT 3');
  const stored = await store.append(queues.map((queue) => ({
    queueId: queue.id, queue: queue.name, userId: queue.user_id, kind: 'message' as const, replaceId: null, body: { title: 't' }, ttlSeconds: 60,
  })));
  t.equal(stored.filter((message) => message !== null).length, 3, 'the batch is stored');
  const append = sent.get('append')!;
  t.same(await tablesReadWhole(explainer, append), [], 'no table is read whole before the tables have statistics');
  await db.exec('ANALYZE users; ANALYZE queues');
  t.same(await tablesReadWhole(explainer, append), [], 'nor after');

  // A reconnect's catch-up starts at its position in the user's sequence, in the index, rather than filtering the whole backlog.
  await store.readFrames([{ userId: queues[0].user_id, since: { seq: 1 }, limit: 10, collapse: true, dialect: 'pushwire', publicUrl: 'http://h' }]);
  const read = sent.get('read_frames')!;
  await explainer.exec(`PREPARE read_plan AS ${read.text}`);
  const [plan] = await explainer.query<{ 'QUERY PLAN': string }>(`EXPLAIN (FORMAT JSON) EXECUTE read_plan(${read.params.map((value) => `'{${(value as unknown[]).map((item) => item ?? 'NULL').join(',')}}'`).join(', ')})`);
  t.match(JSON.stringify(plan['QUERY PLAN']), /"Index Cond":"\(\(user_id = r\.user_id\) AND \(seq > COALESCE\(r\.after_seq, '0'::bigint\)\)\)"/, 'the read starts at the position');
});

t.test('postgresql: trimming a queue\'s backlog and deleting a queue find its messages among its user\'s rows, not by reading messages whole', async (t) => {
  const [db, explainer] = await freshPgDbs(t, 2, 1);
  const sent: { text: string; params: unknown[] }[] = [];
  const store = new SqlStore(watchedDb(db, ({ text, params }) => sent.push({ text, params })));
  await store.migrate();
  await db.exec(`INSERT INTO users (token) SELECT 'token-' || g FROM generate_series(1, 1000) g;
                 INSERT INTO queues (name, user_id) SELECT 'queue-' || id, id FROM users`);
  const queues = await db.query<{ id: number; name: string; user_id: number }>('SELECT id, name, user_id FROM queues ORDER BY id');
  // Twenty messages a user: on fewer, reading the table whole is the cheaper plan, and rightly.
  for (let round = 0; round < 20; round++) {
    await store.append(queues.map((queue) => ({
      queueId: queue.id, queue: queue.name, userId: queue.user_id, kind: 'message' as const, replaceId: null, body: { title: 't' }, ttlSeconds: 60,
    })));
  }
  await db.exec('ANALYZE users; ANALYZE queues; ANALYZE messages');

  sent.length = 0;
  t.equal(await store.prune(0, 1, [queues[0].id, queues[1].id]), 38, 'two queues trimmed to a backlog of one');
  const trim = sent.find((statement) => statement.text.includes('cutoffs'));
  t.ok(trim, 'the trim was sent');
  t.same(await tablesReadWhole(explainer, trim!), [], 'trimming reads no table whole');

  sent.length = 0;
  await store.deleteQueue(queues[2].id);
  const deletion = sent.find((statement) => /DELETE FROM messages/.test(statement.text));
  t.ok(deletion, 'the deletion was sent');
  t.same(await tablesReadWhole(explainer, deletion!), [], 'deleting a queue reads no table whole');
  const [left] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM messages');
  t.same(left, { n: 20_000 - 38 - 20 }, 'only what was trimmed and the deleted queue\'s messages are gone');
});

t.test('postgresql: storing updates nearly every user\'s row where it is, writing no index of users', async (t) => {
  const [db] = await freshPgDbs(t, 2);
  const store = new SqlStore(db);
  await store.migrate();
  // An autovacuum ANALYZE of this database's tables holds a snapshot while it runs, and no row
  // version is pruned under one: a page then has no room however much it left free (seen on a
  // loaded CI run). Off here, so what is counted is the fillfactor's effect alone.
  await db.exec(`DO $$ DECLARE name text; BEGIN
    FOR name IN SELECT tablename FROM pg_tables WHERE schemaname = current_schema() LOOP
      EXECUTE format('ALTER TABLE %I SET (autovacuum_enabled = off)', name);
    END LOOP; END $$`);
  await db.exec(`INSERT INTO users (token) SELECT 'token-' || g FROM generate_series(1, 1000) g;
                 INSERT INTO queues (name, user_id) SELECT 'queue-' || id, id FROM users`);
  const queues = await db.query<{ id: number; name: string; user_id: number }>('SELECT id, name, user_id FROM queues ORDER BY id');
  // The page of each user's row: an update that moves the row also adds an entry to each of users' indexes.
  const pages = async () => (await db.query<{ page: string }>('SELECT (ctid::text::point)[0]::text AS page FROM users ORDER BY id')).map((row) => row.page);
  const before = await pages();
  for (let round = 0; round < 3; round++) {
    for (let start = 0; start < queues.length; start += 250) {
      const stored = await store.append(queues.slice(start, start + 250).map((queue) => ({
        queueId: queue.id, queue: queue.name, userId: queue.user_id, kind: 'message' as const, replaceId: null, body: { title: 't' }, ttlSeconds: 60,
      })));
      t.equal(stored.filter((message) => message !== null).length, 250);
    }
  }
  const [{ last_seq }] = await db.query<{ last_seq: string }>('SELECT min(last_seq)::text AS last_seq FROM users');
  t.equal(last_seq, '3', 'every user took three seqs');
  // A page's room is reclaimed as its old row versions die, not at once: 39 of 1,000 rows moved here, 916 on full pages.
  const moved = (await pages()).filter((page, index) => page !== before[index]).length;
  t.ok(moved < 100, `${moved} of 1,000 users' rows moved to another page`);
});

t.test('postgresql: messages stored while bodies were jsonb are read and caught up after the body becomes json', async (t) => {
  const [db] = await freshPgDbs(t, 1);
  // The schema one migration back, as a database from before this one has it.
  await db.exec('CREATE TABLE schema_migrations (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
  const before = migrations.length - 1;
  for (const [index, migration] of migrations.slice(0, before).entries()) {
    await db.exec(migration);
    await db.query('INSERT INTO schema_migrations (version) VALUES ($1)', [index + 1]);
  }
  const body = { title: 'stored before', nested: { list: [1, 'two', null], text: 'ünï 😀 "q"' } };
  const [{ id: userId }] = await db.query<{ id: number }>("INSERT INTO users (token, last_seq) VALUES ('old-token', 1) RETURNING id");
  const [{ id: queueId }] = await db.query<{ id: number }>("INSERT INTO queues (name, user_id) VALUES ('old-queue', $1) RETURNING id", [userId]);
  await db.query(`INSERT INTO messages (user_id, seq, queue_id, ts, expires_at, kind, replace_id, body)
                  VALUES ($1, 1, $2, 1000000, 9000000000000000, 'message', NULL, $3::jsonb)`, [userId, queueId, JSON.stringify(body)]);
  const store = new SqlStore(db);
  await store.migrate();
  const [page] = await store.readFrames([{ userId, limit: 10, collapse: true, dialect: 'pushwire', publicUrl: 'http://h' }]);
  t.equal(page.frames.length, 1);
  t.same(JSON.parse(page.frames[0]), { type: 'message', key: encodeKey(userId, 1), timestamp: '1.000000', queue: 'http://h/queue/old-queue/', body },
    'its frame is the same JSON (jsonb printed it with its own spacing)');
  t.same((await store.read({ userId, limit: 10, collapse: false })).messages.map((m) => m.body), [body]);
  const [stored] = await store.append([{ queueId, queue: 'old-queue', userId, kind: 'message', replaceId: null, body: { title: 'after' }, ttlSeconds: 60 }]);
  t.equal(stored?.seq, 2, 'and the user goes on after it');
});
