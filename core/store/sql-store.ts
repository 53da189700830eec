import { timed } from '../metrics.js';
import type { Db } from './db.js';
import type { FramePage, FrameReadRequest } from './frame-page.js';
import { migrations } from './migrations.js';
import type { NewMessage, Queue, RangeRequest, ReadRequest, ReadResult, Store, User } from './store.js';
import { queueUrl, type MessageKind, type StoredMessage } from '../message.js';

/** Queues trimmed per statement by a retention sweep. */
const PRUNE_CHUNK = 1000;

/** Arbitrary constant: the advisory lock under which migrations run. */
const MIGRATION_LOCK = 7_302_114;

interface QueueRow { id: number; name: string; user_id: number; domain: string | null; read_ts: number | null }
/** A page's message as read_many and ranges return it: [seq, queue, ts, kind, replace_id, body]. */
type PageEntry = [number, string, number, MessageKind, string | null, Record<string, unknown>];

/** A page entry as the user's stored message. */
const fromPage = (userId: number, [seq, queue, ts, kind, replaceId, body]: PageEntry): StoredMessage =>
  ({ userId, seq, queue, micros: ts, kind, replaceId, body });

const toQueue = (row: QueueRow): Queue => ({
  id: row.id, name: row.name, userId: row.user_id, domain: row.domain, readMicros: row.read_ts,
});

const QUEUE_COLUMNS = 'id, name, user_id, domain, read_ts';

/** A read's position: after a seq, or after a time (microseconds); the other is null. */
interface ReadPosition { afterSeq: number | null; afterTs: number | null }
function readPosition(request: ReadRequest): ReadPosition {
  const since = request.since ?? { seq: 0 };
  return 'seq' in since ? { afterSeq: since.seq, afterTs: null } : { afterSeq: null, afterTs: since.micros };
}

/** Whether retention removed messages the read asked for. */
const isTruncated = (position: ReadPosition, pruned: { pruned_seq: number; pruned_ts: number }): boolean =>
  position.afterSeq !== null ? pruned.pruned_seq > position.afterSeq : pruned.pruned_ts > position.afterTs!;

/** Of a read request `r` (user_id, queue_id): up to where retention pruned its user's messages, or its queue's. */
const PRUNED_OF_REQUEST = `
  SELECT pruned_seq, pruned_ts FROM users WHERE id = r.user_id AND r.queue_id IS NULL
  UNION ALL
  SELECT pruned_seq, pruned_ts FROM queues WHERE id = r.queue_id`;

/** Of a read request `r`: its page of messages, in seq order, up to r.lim, collapsed if r.collapse. */
const PAGE_OF_REQUEST = `
  SELECT seq, user_id, queue_id, ts, kind, replace_id, body
  FROM messages m
  WHERE m.user_id = r.user_id AND (r.queue_id IS NULL OR m.queue_id = r.queue_id)
    -- seq bounds the primary key's range (seqs start at 1): a reconnect reads from its position, not the user's whole backlog
    AND m.seq > coalesce(r.after_seq, 0) AND (r.after_ts IS NULL OR m.ts > r.after_ts)
    -- collapsing: a row with a replace_id stays only if its group has no newer row (messages_replacing answers)
    AND NOT (r.collapse AND m.replace_id IS NOT NULL AND EXISTS (
      SELECT FROM messages n
      WHERE n.user_id = m.user_id AND n.queue_id = m.queue_id AND n.kind = m.kind AND n.replace_id = m.replace_id AND n.seq > m.seq))
  ORDER BY m.seq
  LIMIT r.lim`;

/** A frame's members after its type, of message m, queue q and request r (readFrames says how each is written). */
const FRAME_MEMBERS = `'"key":"' || lpad(to_hex(m.user_id), 12, '0') || lpad(to_hex(m.seq), 12, '0')
        || '","timestamp":"' || (m.ts / 1000000)::text || '.' || lpad((m.ts % 1000000)::text, 6, '0')
        || '","queue":' || to_json(r.url_prefix || q.name || '/')::text || ',"body":' || m.body::text || '}'`;
/** readFrames's statement: each request's page as its frames joined by newlines, their seqs, and collapse keys if any. */
const READ_FRAMES = `SELECT r.idx, p.pruned_seq, p.pruned_ts, page.frames, page.seqs, page.keys
         FROM unnest($1::int8[], $2::int8[], $3::int8[], $4::int8[], $5::bool[], $6::int4[], $7::bool[], $8::text[])
              WITH ORDINALITY AS r(user_id, queue_id, after_seq, after_ts, collapse, lim, typed, url_prefix, idx)
         CROSS JOIN LATERAL (${PRUNED_OF_REQUEST}) p
         CROSS JOIN LATERAL (
           SELECT string_agg(CASE WHEN r.typed THEN '{"type":"' || m.kind || '",' ELSE '{' END || ${FRAME_MEMBERS}, E'\n' ORDER BY m.seq) AS frames,
                  string_agg(m.seq::text, ',' ORDER BY m.seq) AS seqs,
                  CASE WHEN count(m.replace_id) > 0 THEN json_agg(q.name || ' ' || m.kind || ' ' || m.replace_id ORDER BY m.seq) END AS keys
           FROM (${PAGE_OF_REQUEST}) m JOIN queues q ON q.id = m.queue_id
         ) page
         ORDER BY r.idx`;

/** readMany's statement: each request's page as one JSON array of [seq, queue, ts, kind, replace_id, body]. */
const READ_MANY = `SELECT r.idx, p.pruned_seq, p.pruned_ts, page.entries AS page
         FROM unnest($1::int8[], $2::int8[], $3::int8[], $4::int8[], $5::bool[], $6::int4[])
              WITH ORDINALITY AS r(user_id, queue_id, after_seq, after_ts, collapse, lim, idx)
         CROSS JOIN LATERAL (${PRUNED_OF_REQUEST}) p
         CROSS JOIN LATERAL (
           SELECT json_agg(json_build_array(m.seq, q.name, m.ts, m.kind, m.replace_id, m.body) ORDER BY m.seq) AS entries
           FROM (${PAGE_OF_REQUEST}) m JOIN queues q ON q.id = m.queue_id
         ) page
         ORDER BY r.idx`;

/** The store over PostgreSQL. */
export class SqlStore implements Store {
  constructor(private readonly db: Db) {}

  get writers(): number {
    return this.db.connections;
  }

  async migrate(): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await tx.query('CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
      const [{ version }] = await tx.query<{ version: number }>('SELECT coalesce(max(version), 0)::int AS version FROM schema_migrations');
      for (let index = version; index < migrations.length; index++) {
        await tx.exec(migrations[index]);
        await tx.query('INSERT INTO schema_migrations (version) VALUES ($1)', [index + 1]);
      }
    });
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }

  async createUser(token: string, ownQueueName: string): Promise<{ user: User; queue: Queue }> {
    return this.db.transaction(async (tx) => {
      const [user] = await tx.query<{ id: number }>('INSERT INTO users (token) VALUES ($1) RETURNING id', [token]);
      const [queue] = await tx.query<QueueRow>(
        `INSERT INTO queues (name, user_id) VALUES ($1, $2) RETURNING ${QUEUE_COLUMNS}`, [ownQueueName, user.id]);
      return { user: { id: user.id, token, lastSeq: 0 }, queue: toQueue(queue) };
    });
  }

  async userByToken(token: string): Promise<User | null> {
    return (await this.usersByTokens([token])).get(token) ?? null;
  }

  async usersByTokens(tokens: readonly string[]): Promise<Map<string, User>> {
    const rows = await this.db.query<{ id: number; token: string; last_seq: number }>(
      'SELECT id, token, last_seq FROM users WHERE token = ANY($1::text[])', [tokens], 'users_by_tokens');
    return new Map(rows.map((row) => [row.token, { id: row.id, token: row.token, lastSeq: row.last_seq }]));
  }

  async queueForDomain(userId: number, domain: string, name: string): Promise<Queue> {
    const [row] = await this.db.query<QueueRow>(
      `INSERT INTO queues (name, user_id, domain) VALUES ($1, $2, $3)
       ON CONFLICT (user_id, domain) DO UPDATE SET domain = EXCLUDED.domain
       RETURNING ${QUEUE_COLUMNS}`, [name, userId, domain]);
    return toQueue(row);
  }

  async queueCount(userId: number): Promise<number> {
    const [row] = await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM queues WHERE user_id = $1', [userId]);
    return row.n;
  }

  async queuesOf(userId: number): Promise<Queue[]> {
    const rows = await this.db.query<QueueRow>(`SELECT ${QUEUE_COLUMNS} FROM queues WHERE user_id = $1 ORDER BY id`, [userId]);
    return rows.map(toQueue);
  }

  async queueByName(name: string): Promise<Queue | null> {
    const [row] = await this.db.query<QueueRow>(`SELECT ${QUEUE_COLUMNS} FROM queues WHERE name = $1`, [name]);
    return row ? toQueue(row) : null;
  }

  async queuesByNames(names: readonly string[]): Promise<Map<string, Queue>> {
    const rows = await this.db.query<QueueRow>(`SELECT ${QUEUE_COLUMNS} FROM queues WHERE name = ANY($1::text[])`, [names], 'queues_by_names');
    return new Map(rows.map((row) => [row.name, toQueue(row)]));
  }

  /**
   * Two statements: the second one's snapshot is taken after the first waited for any append
   * that holds the queue, so it sees (and deletes) the messages that append committed.
   */
  async deleteQueue(queueId: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      const [queue] = await tx.query<{ user_id: number }>('DELETE FROM queues WHERE id = $1 RETURNING user_id', [queueId]);
      // Through its user's rows (the primary key): no index of messages leads by queue.
      if (queue) await tx.query('DELETE FROM messages WHERE user_id = $1 AND queue_id = $2', [queue.user_id, queueId]);
    });
  }

  async touchUsers(userIds: readonly number[], nowMicros: number): Promise<void> {
    if (userIds.length === 0) return;
    await this.db.query('UPDATE users SET last_active = $2 WHERE id = ANY($1::bigint[]) AND last_active < $2', [userIds, nowMicros]);
  }

  async expireIdleUsers(idleBeforeMicros: number, limit: number): Promise<number> {
    return this.db.transaction(async (tx) => {
      // SKIP LOCKED: a user a registration or an append holds is not idle; several api processes sweep apart.
      const rows = await tx.query<{ id: number }>(
        `DELETE FROM users WHERE id IN (
           SELECT id FROM users u WHERE last_active < $1
             AND NOT EXISTS (SELECT 1 FROM queues q WHERE q.user_id = u.id AND q.domain IS NOT NULL)
             AND NOT EXISTS (SELECT 1 FROM devices d WHERE d.user_id = u.id)
           ORDER BY last_active LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING id`, [idleBeforeMicros, limit]);
      if (rows.length === 0) return 0;
      // Their queues went with them (ON DELETE CASCADE); messages and push checks have no foreign key.
      const ids = rows.map((row) => row.id);
      await tx.query('DELETE FROM messages WHERE user_id = ANY($1::bigint[])', [ids]);
      await tx.query('DELETE FROM push_checks WHERE user_id = ANY($1::bigint[])', [ids]);
      return ids.length;
    });
  }

  async setReadMarker(queueId: number, micros: number): Promise<void> {
    await this.db.query('UPDATE queues SET read_ts = $2 WHERE id = $1', [queueId, micros]);
  }

  /**
   * Each user takes a block of sequence numbers and a timestamp while holding its row lock
   * until commit, so per-user seq order, commit order and timestamp order agree.
   *
   * Stores a batch in one statement (atomic without BEGIN/COMMIT, one round trip): locks the
   * batch's users in id order (so concurrent batches from other api processes cannot deadlock),
   * takes each user's block of sequence numbers, inserts the messages whose queue still belongs
   * to their user, and writes a push check, due now, for each message (not read or marker) of a
   * user with live devices; the push worker decides from presence whether it waits for an ack. Messages whose queue is gone come back as null.
   *
   * Every lookup goes through an index with the batch's ids as one array (users, queues and
   * devices once per distinct id, not per message), so the cost grows with the batch, never
   * with the table, on the generic plan every batch shares (PgDb).
   */
  async append(batch: readonly NewMessage[]): Promise<(StoredMessage | null)[]> {
    return timed('append', async () => {
      if (batch.length === 0) return [];
      // Each message's place in its user's block (1, 2, …), in batch order.
      const counts = new Map<number, number>();
      const places = batch.map((message) => {
        const place = (counts.get(message.userId) ?? 0) + 1;
        counts.set(message.userId, place);
        return place;
      });
      const users = [...counts.keys()].sort((a, b) => a - b);
      const bodies = batch.map((message) => JSON.stringify(message.body));
      const rows = await this.db.query<{ user_id: number; place: number; seq: number; ts: number }>(
        `WITH locked AS MATERIALIZED (
           SELECT id FROM users WHERE id = ANY($1::int8[]) ORDER BY id FOR UPDATE
         ),
         -- Found through the primary key and sized from a JSON object (user id → messages), with no
         -- join: any join here let the generic plan read users whole for every batch (it costs a
         -- probe per id as a random read), or compare every id with every other. The subquery on
         -- locked is a one-time filter: the locks are taken, in id order, before any row is updated.
         blocks AS MATERIALIZED (
           UPDATE users u SET last_seq = u.last_seq + ($2::jsonb ->> u.id::text)::int8
           WHERE u.id = ANY($1::int8[]) AND (SELECT count(*) FROM locked) > 0
           RETURNING u.id, u.last_seq - ($2::jsonb ->> u.id::text)::int8 AS first_seq, (extract(epoch FROM clock_timestamp()) * 1000000)::int8 AS now
         ),
         -- Held until commit, so a queue being deleted either is gone here or waits for these messages (and deletes them).
         owned AS (SELECT id, user_id FROM queues WHERE id = ANY($3::int8[]) FOR KEY SHARE),
         input AS (
           SELECT m.*, b.first_seq + m.place AS seq, b.now AS ts
           FROM json_to_recordset($4::json)
                AS m(user_id int8, queue_id int8, place int4, ttl int8, kind text, replace_id text, body json)
           JOIN blocks b ON b.id = m.user_id
           JOIN owned q ON q.id = m.queue_id AND q.user_id = m.user_id
         ),
         -- Every row of input is stored (or the statement fails as a whole), so nothing below joins
         -- back to what the insert returned: that join had no index and cost O(batch²).
         stored AS (
           INSERT INTO messages (user_id, seq, queue_id, ts, expires_at, kind, replace_id, body)
           SELECT user_id, seq, queue_id, ts, ts + ttl * 1000000, kind, replace_id, body FROM input
         ),
         checks AS (
           INSERT INTO push_checks (user_id, seq, due_at)
           SELECT i.user_id, i.seq, i.ts FROM input i
           -- LATERAL with LIMIT: one probe of devices_by_user per message, whatever the planner
           -- guesses of the batch's size (it guessed one row and scanned the index whole per message).
           CROSS JOIN LATERAL (SELECT FROM devices d WHERE d.user_id = i.user_id AND d.expired_at IS NULL LIMIT 1) live
           WHERE i.kind = 'message'
         )
         SELECT user_id, place, seq, ts FROM input`,
        // The messages go as one JSON document, with each body serialised once: the stored
        // messages carry that text on, and frames splice it in instead of serialising it again.
        [users, JSON.stringify(Object.fromEntries(counts)), [...new Set(batch.map((m) => m.queueId))],
          `[${batch.map((m, index) => `{"user_id":${m.userId},"queue_id":${m.queueId},"place":${places[index]},"ttl":${m.ttlSeconds},`
            + `"kind":"${m.kind}","replace_id":${JSON.stringify(m.replaceId)},"body":${bodies[index]}}`).join(',')}]`], 'append');
      const stored = new Map(rows.map((row) => [`${row.user_id}:${row.place}`, row]));
      return batch.map((message, index) => {
        const row = stored.get(`${message.userId}:${places[index]}`);
        if (!row) return null;
        return {
          userId: message.userId, seq: Number(row.seq), queue: message.queue, micros: Number(row.ts), kind: message.kind, replaceId: message.replaceId,
          body: message.body, bodyJson: bodies[index],
        };
      });
    });
  }

  /**
   * Collapsing keeps the newest row of each (queue, kind, replaceId) group at its own position, so
   * the newest row overall always survives and "resume after the last key returned" skips
   * nothing that matters. `limit` counts after collapsing; one extra row tells `more`.
   */
  async read(request: ReadRequest): Promise<ReadResult> {
    return (await this.readMany([request]))[0];
  }

  /**
   * Catch-up pages as frames, written and joined by PostgreSQL (one row a page, a newline between
   * two frames): the driver decodes a few strings a page instead of a JSON value per message,
   * and this process parses and serialises no body (a third of a caught-up message's CPU here).
   * The frame is frameOf's text piece by piece: the body is the text its publisher's body was
   * serialised to (messages.body is json, kept as written), a key the user id and seq in 12
   * hex digits each (encodeKey), a timestamp seconds and six digits of microseconds
   * (formatTimestamp), the queue's URL a JSON string as JSON.stringify writes it (to_json).
   * None holds a newline of its own. Collapse keys come only for a page that has any.
   */
  async readFrames(requests: readonly FrameReadRequest[]): Promise<FramePage[]> {
    return timed('read', async () => {
      const positions = requests.map(readPosition);
      const rows = await this.db.query<{ idx: number; pruned_seq: number; pruned_ts: number; frames: string | null; seqs: string | null; keys: (string | null)[] | null }>(
        READ_FRAMES,
        [requests.map((r) => r.userId), requests.map((r) => r.queueId ?? null), positions.map((p) => p.afterSeq), positions.map((p) => p.afterTs),
          requests.map((r) => r.collapse), requests.map((r) => r.limit + 1), requests.map((r) => r.dialect === 'pushwire'),
          // A queue's URL up to its name.
          requests.map((r) => queueUrl(r.publicUrl, '').slice(0, -1))], 'read_frames');
      const byRequest = new Map(rows.map((row) => [Number(row.idx) - 1, row]));
      return requests.map((request, index): FramePage => {
        const found = byRequest.get(index);
        const truncated = found !== undefined && isTruncated(positions[index], found);
        if (!found?.frames) return { frames: [], seqs: [], collapseKeys: null, more: false, truncated };
        const frames = found.frames.split('\n');
        const more = frames.length > request.limit;
        if (more) frames.length = request.limit;
        return {
          frames, seqs: found.seqs!.split(',', request.limit).map(Number), more, truncated,
          collapseKeys: found.keys?.slice(0, request.limit) ?? null,
        };
      });
    });
  }

  /**
   * Several reads in one query (one round trip, one statement: the gateway batches the
   * catch-ups of a reconnect storm). Each request joins the position retention pruned up to
   * (of its user, or of its queue) with its page of messages; no message gives a null page.
   */
  private async readMany(requests: readonly ReadRequest[]): Promise<ReadResult[]> {
    return timed('read', async () => {
      const positions = requests.map(readPosition);
      // One row per request, its page as one JSON array of [seq, queue, ts, kind, replace_id, body]:
      // every value of a result row costs the driver a few µs to decode.
      const rows = await this.db.query<{ idx: number; pruned_seq: number; pruned_ts: number; page: PageEntry[] | null }>(
        READ_MANY,
        [requests.map((r) => r.userId), requests.map((r) => r.queueId ?? null), positions.map((p) => p.afterSeq), positions.map((p) => p.afterTs),
          requests.map((r) => r.collapse), requests.map((r) => r.limit + 1)], 'read_many');
      const byRequest = new Map(rows.map((row) => [Number(row.idx) - 1, row]));
      return requests.map((request, index) => {
        const found = byRequest.get(index);
        const truncated = found !== undefined && isTruncated(positions[index], found);
        const page = found?.page ?? [];
        const messages = page.slice(0, request.limit).map((entry) => fromPage(request.userId, entry));
        return { messages, more: page.length > request.limit, truncated };
      });
    });
  }


  /** Each range's page as one JSON array, as `readMany` reads them. */
  async ranges(requests: readonly RangeRequest[]): Promise<StoredMessage[][]> {
    return timed('range', async () => {
      if (requests.length === 0) return [];
      const rows = await this.db.query<{ idx: number; page: PageEntry[] | null }>(
        `SELECT r.idx, page.entries AS page
         FROM unnest($1::int8[], $2::int8[], $3::int8[], $4::int4[]) WITH ORDINALITY AS r(user_id, after_seq, upto_seq, lim, idx)
         CROSS JOIN LATERAL (
           SELECT json_agg(json_build_array(m.seq, q.name, m.ts, m.kind, m.replace_id, m.body) ORDER BY m.seq) AS entries
           FROM (
             SELECT seq, queue_id, ts, kind, replace_id, body FROM messages
             WHERE user_id = r.user_id AND seq > r.after_seq AND seq <= r.upto_seq
             ORDER BY seq
             LIMIT r.lim
           ) m JOIN queues q ON q.id = m.queue_id
         ) page`,
        [requests.map((r) => r.userId), requests.map((r) => r.afterSeq), requests.map((r) => r.uptoSeq), requests.map((r) => r.max)], 'ranges');
      const pages = new Map(rows.map((row) => [Number(row.idx) - 1, row.page ?? []]));
      return requests.map((request, index) => (pages.get(index) ?? []).map((entry) => fromPage(request.userId, entry)));
    });
  }

  async hasMessage(userId: number, seq: number): Promise<boolean> {
    const rows = await this.db.query('SELECT 1 FROM messages WHERE user_id = $1 AND seq = $2', [userId, seq]);
    return rows.length > 0;
  }

  async lastSeqs(userIds: readonly number[]): Promise<Map<number, number>> {
    return timed('last_seqs', async () => {
      if (userIds.length === 0) return new Map();
      const rows = await this.db.query<{ id: number; last_seq: number }>(
        'SELECT id, last_seq FROM users WHERE id = ANY($1::int8[])', [userIds], 'last_seqs');
      return new Map(rows.map((row) => [row.id, row.last_seq]));
    });
  }

  /**
   * The touched queues are trimmed PRUNE_CHUNK at a time, each chunk one statement: a sweep after
   * a busy minute touches tens of thousands of queues, and a statement each kept the store busy
   * (and publishes waiting behind it) for seconds.
   */
  async prune(nowMicros: number, backlog: number, queueIds: readonly number[]): Promise<number> {
    let removed = await this.removeWhere('DELETE FROM messages WHERE expires_at <= $1', [nowMicros]);
    for (let start = 0; start < queueIds.length; start += PRUNE_CHUNK) {
      removed += await this.removeWhere(
        // A queue's messages are found among its user's (the primary key, newest first): no
        // index of messages leads by queue. A queue deleted meanwhile has no row, and no messages.
        `WITH cutoffs AS (
           SELECT q.id AS queue, q.user_id AS owner,
                  (SELECT k.seq FROM messages k WHERE k.user_id = q.user_id AND k.queue_id = q.id ORDER BY k.seq DESC OFFSET $2 LIMIT 1) AS cutoff
           FROM queues q WHERE q.id = ANY($1::int8[])
         )
         DELETE FROM messages m USING cutoffs c WHERE m.user_id = c.owner AND m.queue_id = c.queue AND m.seq <= c.cutoff`,
        [queueIds.slice(start, start + PRUNE_CHUNK), backlog]);
    }
    return removed;
  }

  /** Runs `deletion` (a DELETE on messages), removes the pushes of what it deleted and raises the pruned marks of their users and queues. */
  private async removeWhere(deletion: string, params: unknown[]): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(
      `WITH gone AS (
         ${deletion} RETURNING user_id, queue_id, seq, ts
       ), by_user AS (
         UPDATE users u SET pruned_seq = GREATEST(u.pruned_seq, g.seq), pruned_ts = GREATEST(u.pruned_ts, g.ts)
         FROM (SELECT user_id, max(seq) AS seq, max(ts) AS ts FROM gone GROUP BY user_id) g WHERE u.id = g.user_id
       ), by_queue AS (
         UPDATE queues q SET pruned_seq = GREATEST(q.pruned_seq, g.seq), pruned_ts = GREATEST(q.pruned_ts, g.ts)
         FROM (SELECT queue_id, max(seq) AS seq, max(ts) AS ts FROM gone GROUP BY queue_id) g WHERE q.id = g.queue_id
       ), push_results AS (
         -- a message's push results and pending pushes go with it
         DELETE FROM push_jobs j USING gone g WHERE j.user_id = g.user_id AND j.seq = g.seq
       ), push_pending AS (
         DELETE FROM push_checks c USING gone g WHERE c.user_id = g.user_id AND c.seq = g.seq
       )
       SELECT count(*)::int AS n FROM gone`, params);
    return row.n;
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
