import { isPlainQueueName, quotedQueuePrefix, StoredJsonMessage, type MessageKind, type StoredMessage } from '../../message.js';
import { framePage, joinFrames, splitFrames, type FramePage, type FrameReadRequest, type JoinedFramePage } from '../frame-page.js';
import type { NewMessage, Queue, RangeRequest, ReadRequest, ReadResult, Store, User } from '../store.js';
import type { Dialect } from '../../../sdk/wire.js';
import { isoNow, type Sqlite } from './db.js';
import { migrate } from './schema.js';
import { appendColumns, forEachAppendRow, messagesFromRows, readFromRows, storedFrom, type AppendColumns, type MessageRow, type RowPage } from './shared.js';

/** Queues trimmed per transaction by a retention sweep, so appends wait for one chunk at most. */
const PRUNE_CHUNK = 1000;

interface QueueRow { id: number; name: string; user_id: number; domain: string | null; read_ts: number | null }
/** A message's columns as reads fetch them (MESSAGE_COLUMNS), the queue by its id. */
type ColumnRow = [seq: number, queueId: number, ts: number, kind: MessageKind, replaceId: string | null, body: string];
const MESSAGE_COLUMNS = 'm.seq, m.queue_id, m.ts, m.kind, m.replace_id, m.body';

/** Queue names remembered by id, at most; past it the memory starts again. */
const QUEUE_NAMES_KEPT = 10_000;

/**
 * The text of a read, by seq or by time, of one queue or all of the user's, collapsed or not.
 * A row with a replace_id stays only if no newer row of its group exists (messages_replacing
 * answers that); rows without one, nearly all of them, cost nothing more than a plain read.
 */
function readText(bySeq: boolean, ofQueue: boolean, collapse: boolean, rows: number): string {
  const shape = shapeOf(bySeq, ofQueue, collapse, rows);
  let text = READ_TEXTS.get(shape);
  if (text === undefined) READ_TEXTS.set(shape, (text = readTextOf(bySeq, ofQueue, collapse, rows)));
  return text;
}
/** Read texts by shape and LIMIT: a read finds its statement without building its text again. */
const READ_TEXTS = new Map<number, string>();

/** A read's shape and LIMIT as one number, the key its texts are kept under. */
const shapeOf = (bySeq: boolean, ofQueue: boolean, collapse: boolean, rows: number): number =>
  (atLeast(rows) * 2 + Number(bySeq)) * 4 + Number(ofQueue) * 2 + Number(collapse);

function readTextOf(bySeq: boolean, ofQueue: boolean, collapse: boolean, rows: number): string {
  return `SELECT ${MESSAGE_COLUMNS} ${readFrom(bySeq, ofQueue, collapse, rows)}`;
}

/** A read's text after its SELECT list: FROM messages m, its conditions, its order and LIMIT. */
function readFrom(bySeq: boolean, ofQueue: boolean, collapse: boolean, rows: number): string {
  const conditions = ['m.user_id = ?', bySeq ? 'm.seq > ?' : 'm.ts > ?'];
  if (ofQueue) conditions.push('m.queue_id = ?');
  if (collapse) {
    conditions.push(`(m.replace_id IS NULL OR NOT EXISTS (SELECT 1 FROM messages n
      WHERE n.user_id = m.user_id AND n.queue_id = m.queue_id AND n.kind = m.kind AND n.replace_id = m.replace_id AND n.seq > m.seq))`);
  }
  return `FROM messages m WHERE ${conditions.join(' AND ')} ORDER BY m.seq LIMIT ${atLeast(rows)}`;
}

/**
 * A read as one row: its frames, written and joined by SQLite (a newline between two), their seqs
 * (comma-separated), how many, how many have a replace_id, and the queues they name. The frame is
 * frameOf's text, piece by piece: a key is the user id and the seq in 12 hex digits each
 * (encodeKey), a timestamp the seconds and six digits of microseconds (formatTimestamp), the
 * queue's URL the quoted prefix (a parameter) and the name. Checking the names here (GLOB) or
 * ordering inside the aggregates cost more than the rest of a row; pageBuilt checks both.
 */
function frameReadText(bySeq: boolean, ofQueue: boolean, collapse: boolean, rows: number, dialect: Dialect): string {
  const shape = shapeOf(bySeq, ofQueue, collapse, rows) * 2 + Number(dialect === 'original');
  let text = FRAME_READ_TEXTS.get(shape);
  if (text === undefined) {
    const members = `'"key":"' || printf('%012x%012x', m.user_id, m.seq) || '","timestamp":"' || printf('%d.%06d', m.ts / 1000000, m.ts % 1000000)`
      + ` || '","queue":' || ? || q.name || '/","body":' || m.body`;
    const frame = dialect === 'pushwire' ? `'{"type":"' || m.kind || '",' || ${members} || '}'` : `'{' || ${members} || '}'`;
    FRAME_READ_TEXTS.set(shape, text = `SELECT group_concat(frame, char(10)), group_concat(seq, ','), count(*), count(replace_id), group_concat(DISTINCT queue_id)
      FROM (SELECT m.seq AS seq, m.replace_id AS replace_id, m.queue_id AS queue_id, ${frame} AS frame
        ${readFrom(bySeq, ofQueue, collapse, rows).replace('FROM messages m', 'FROM messages m JOIN queues q ON q.id = m.queue_id')})`);
  }
  return text;
}
const FRAME_READ_TEXTS = new Map<number, string>();
type BuiltPageRow = [text: string | null, seqs: string | null, count: number, collapsing: number, queueIds: string | null];

interface Pruned { pruned_seq: number; pruned_ts: number }
const NO_ROWS: RowPage = { rows: [], more: false, truncated: false };

/** A read's statement shape and the position it reads after (a seq, or a time in microseconds). */
function readShape(request: ReadRequest): { bySeq: boolean; ofQueue: boolean; position: number } {
  const since = request.since ?? { seq: 0 };
  const bySeq = 'seq' in since;
  return { bySeq, ofQueue: request.queueId !== undefined, position: bySeq ? since.seq : since.micros };
}

/** Whether retention removed messages the read asked for. */
function truncatedSince(request: ReadRequest, pruned: Pruned): boolean {
  const { bySeq, position } = readShape(request);
  return bySeq ? pruned.pruned_seq > position : pruned.pruned_ts > position;
}

/** A page with no frames. */
const emptyPage = (truncated: boolean): JoinedFramePage => ({ text: '', lengths: [], seqs: [], collapseKeys: null, more: false, truncated });

/**
 * A LIMIT for at least `rows` rows, as literal text: the next power of two (callers keep the rows
 * they asked for). SQLite plans a statement again each time it runs with a LIMIT bound as a
 * parameter (the planner takes the value into account): 6–13 µs a read here, more than reading
 * 10 rows, against 0.3 for a read that finds nothing with the LIMIT in the text. Powers of two
 * keep the statements prepared for any limit a client asks for few.
 */
function atLeast(rows: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1, rows)));
}

const QUEUE_COLUMNS = 'id, name, user_id, domain, read_ts';

/**
 * A user's last seq, of `users u`. Here users.last_seq is a floor, not the value: appends do not
 * write it (that was a page written per user per commit, far from every other), so the last seq
 * is the newest message kept, or the newest of those deleted when none newer is kept: pruning
 * raises pruned_seq, deleting a queue raises last_seq first. A user's newest message is the last
 * entry of their run of messages' key, found without reading the run.
 */
const LAST_SEQ = 'max(u.last_seq, u.pruned_seq, coalesce((SELECT max(seq) FROM messages WHERE user_id = u.id), 0))';

/*
 * Statements run once a message or a user are module constants: the statement cache is keyed by
 * their text, and a text built at each call is a new string whose hash is computed again (the
 * cache's lookup was 7% of the database thread's busy time in batches of 500).
 */
/** A user's last seq, by id. */
const LAST_SEQ_OF_USER = `SELECT ${LAST_SEQ} AS last_seq FROM users u WHERE id = ?`;
/** What an append needs of a message's queue, in one statement: its owner, the owner's last seq, and whether they have live devices. */
const APPEND_TARGET = `SELECT q.user_id, ${LAST_SEQ} AS last_seq, EXISTS (SELECT 1 FROM devices WHERE user_id = u.id AND expired_at IS NULL) AS devices
  FROM queues q JOIN users u ON u.id = q.user_id WHERE q.id = ?`;
const INSERT_MESSAGE = 'INSERT INTO messages (user_id, seq, queue_id, ts, expires_at, kind, replace_id, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)';
const INSERT_PUSH_CHECK = 'INSERT INTO push_checks (user_id, seq, due_at) VALUES (?, ?, ?)';

const toQueue = (row: QueueRow): Queue => ({
  id: row.id, name: row.name, userId: row.user_id, domain: row.domain, readMicros: row.read_ts,
});


/**
 * The store on embedded SQLite. One thread owns the database and runs each call to its end
 * before the next (the embedded store's worker), so an append needs no locks: it reads each
 * user's last seq, writes the block after it and commits, and nothing can interleave.
 */
export class SqliteStore implements Store {
  readonly writers = 1;
  /** The last timestamp given: timestamps strictly increase, so "after this time" is exact. */
  private lastMicros = 0;
  /** Queue names by id, for reads (a join per row cost a third of a read): an id is never given twice, so a name found stays right. */
  private readonly queueNames = new Map<number, string>();

  constructor(private readonly sqlite: Sqlite) {}

  async migrate(): Promise<void> {
    migrate(this.sqlite);
  }

  async ping(): Promise<void> {
    this.sqlite.get('SELECT 1');
  }

  async createUser(token: string, ownQueueName: string): Promise<{ user: User; queue: Queue }> {
    return this.sqlite.transaction(() => {
      const now = isoNow();
      const { lastInsertRowid } = this.sqlite.run('INSERT INTO users (token, created_at, last_active) VALUES (?, ?, ?)', token, now, Date.now() * 1000);
      const userId = Number(lastInsertRowid);
      const queue = this.sqlite.get<QueueRow>(
        `INSERT INTO queues (name, user_id, created_at) VALUES (?, ?, ?) RETURNING ${QUEUE_COLUMNS}`, ownQueueName, userId, now)!;
      return { user: { id: userId, token, lastSeq: 0 }, queue: toQueue(queue) };
    });
  }

  async userByToken(token: string): Promise<User | null> {
    return (await this.usersByTokens([token])).get(token) ?? null;
  }

  async usersByTokens(tokens: readonly string[]): Promise<Map<string, User>> {
    return this.sqlite.snapshot(() => {
      const users = new Map<string, User>();
      for (const token of new Set(tokens)) {
        const row = this.sqlite.get<{ id: number; last_seq: number }>(`SELECT id, ${LAST_SEQ} AS last_seq FROM users u WHERE token = ?`, token);
        if (row) users.set(token, { id: row.id, token, lastSeq: row.last_seq });
      }
      return users;
    });
  }

  async queueForDomain(userId: number, domain: string, name: string): Promise<Queue> {
    return toQueue(this.sqlite.get<QueueRow>(
      `INSERT INTO queues (name, user_id, domain, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id, domain) DO UPDATE SET domain = excluded.domain
       RETURNING ${QUEUE_COLUMNS}`, name, userId, domain, isoNow())!);
  }

  async queueCount(userId: number): Promise<number> {
    return this.sqlite.get<{ n: number }>('SELECT count(*) AS n FROM queues WHERE user_id = ?', userId)!.n;
  }

  async queuesOf(userId: number): Promise<Queue[]> {
    return this.sqlite.all<QueueRow>(`SELECT ${QUEUE_COLUMNS} FROM queues WHERE user_id = ? ORDER BY id`, userId).map(toQueue);
  }

  async queueByName(name: string): Promise<Queue | null> {
    const row = this.sqlite.get<QueueRow>(`SELECT ${QUEUE_COLUMNS} FROM queues WHERE name = ?`, name);
    return row ? toQueue(row) : null;
  }

  async queuesByNames(names: readonly string[]): Promise<Map<string, Queue>> {
    return this.sqlite.snapshot(() => {
      const queues = new Map<string, Queue>();
      for (const name of new Set(names)) {
        const row = this.sqlite.get<QueueRow>(`SELECT ${QUEUE_COLUMNS} FROM queues WHERE name = ?`, name);
        if (row) queues.set(name, toQueue(row));
      }
      return queues;
    });
  }

  async deleteQueue(queueId: number): Promise<void> {
    this.sqlite.transaction(() => {
      const owner = this.sqlite.get<{ user_id: number }>('SELECT user_id FROM queues WHERE id = ?', queueId)?.user_id;
      if (owner === undefined) return;
      // The owner's last seq may be among what goes: kept as the floor (LAST_SEQ), so no seq is given twice.
      this.sqlite.run(`UPDATE users AS u SET last_seq = ${LAST_SEQ} WHERE id = ?`, owner);
      // By the owner first: messages' key begins with user_id, and no index leads with queue_id.
      this.sqlite.run('DELETE FROM messages WHERE user_id = ? AND queue_id = ?', owner, queueId);
      this.sqlite.run('DELETE FROM queues WHERE id = ?', queueId);
    });
  }

  async touchUsers(userIds: readonly number[], nowMicros: number): Promise<void> {
    this.sqlite.transaction(() => {
      for (const id of userIds) this.sqlite.run('UPDATE users SET last_active = ? WHERE id = ? AND last_active < ?', nowMicros, id, nowMicros);
    });
  }

  async expireIdleUsers(idleBeforeMicros: number, limit: number): Promise<number> {
    return this.sqlite.transaction(() => {
      const ids = this.sqlite.all<{ id: number }>(
        `SELECT id FROM users u WHERE last_active < ?
           AND NOT EXISTS (SELECT 1 FROM queues q WHERE q.user_id = u.id AND q.domain IS NOT NULL)
           AND NOT EXISTS (SELECT 1 FROM devices d WHERE d.user_id = u.id)
         ORDER BY last_active LIMIT ?`, idleBeforeMicros, limit).map((row) => row.id);
      for (const id of ids) {
        this.sqlite.run('DELETE FROM messages WHERE user_id = ?', id);
        this.sqlite.run('DELETE FROM push_checks WHERE user_id = ?', id);
        this.sqlite.run('DELETE FROM queues WHERE user_id = ?', id);
        this.sqlite.run('DELETE FROM users WHERE id = ?', id);
      }
      return ids.length;
    });
  }

  async setReadMarker(queueId: number, micros: number): Promise<void> {
    this.sqlite.run('UPDATE queues SET read_ts = ? WHERE id = ?', micros, queueId);
  }

  /**
   * One transaction: each user's block of sequence numbers follows their last seq, every message
   * of the batch gets the same timestamp (later than any given before), a message whose queue is
   * gone or not its user's is skipped (null), and a message (not a read or a marker) to a user
   * with live devices leaves a push check, due now.
   */
  async append(batch: readonly NewMessage[]): Promise<(StoredMessage | null)[]> {
    const { columns, bodyJsons } = appendColumns(batch);
    return storedFrom(batch, bodyJsons, this.appendKeys(columns));
  }

  /**
   * `append` answering only each message's seq and timestamp, two numbers a message (a seq of 0:
   * skipped): the caller has the rest, and across threads, copying it back costs.
   */
  appendKeys(batch: AppendColumns): Float64Array {
    const keys = new Float64Array(batch.bodyLengths.length * 2);
    if (keys.length === 0) return keys;
    return this.sqlite.transaction(() => {
      const micros = this.nextMicros();
      /** Each queue's owner (undefined: the queue is gone). */
      const owners = new Map<number, number | undefined>();
      /** Each owner's last seq so far, and whether they have live devices: read with their first queue, then counted here. */
      const users = new Map<number, { seq: number; devices: boolean }>();
      forEachAppendRow(batch, (message, index) => {
        if (!owners.has(message.queueId)) {
          const target = this.sqlite.get<{ user_id: number; last_seq: number; devices: number }>(APPEND_TARGET, message.queueId);
          owners.set(message.queueId, target?.user_id);
          if (target && !users.has(target.user_id)) users.set(target.user_id, { seq: target.last_seq, devices: target.devices === 1 });
        }
        if (owners.get(message.queueId) !== message.userId) return;
        const user = users.get(message.userId)!;
        const seq = ++user.seq;
        this.sqlite.run(INSERT_MESSAGE,
          message.userId, seq, message.queueId, micros, micros + message.ttlSeconds * 1_000_000, message.kind, message.replaceId, message.bodyJson);
        if (message.kind === 'message' && user.devices) this.sqlite.run(INSERT_PUSH_CHECK, message.userId, seq, micros);
        keys[2 * index] = seq;
        keys[2 * index + 1] = micros;
      });
      return keys;
    });
  }

  /** Now in microseconds, and later than the last value given (the clock may stand still or step back). */
  private nextMicros(): number {
    this.lastMicros = Math.max(Math.floor((performance.timeOrigin + performance.now()) * 1000), this.lastMicros + 1);
    return this.lastMicros;
  }

  async read(request: ReadRequest): Promise<ReadResult> {
    return readFromRows(request.userId, this.readRows([request])[0]);
  }

  async readFrames(requests: readonly FrameReadRequest[]): Promise<FramePage[]> {
    return this.joinedFrames(requests).map(splitFrames);
  }

  /**
   * `readFrames` as it crosses to the caller's thread: each page's frames in one string. SQLite
   * builds and joins them itself (pageBuilt), so a message costs no row, object or string of its
   * own here: 1.3 µs a frame against 1.9 read as rows and written in JavaScript. A page that
   * collapses, or names a queue whose URL needs escaping, is read as rows and written by
   * frameOf (both rare), so the two always give the same text (test/store.test.ts compares them).
   */
  joinedFrames(requests: readonly FrameReadRequest[]): JoinedFramePage[] {
    return this.sqlite.snapshot(() => requests.map((request) => {
      const pruned = this.prunedOf(request);
      if (!pruned) return emptyPage(false);
      return this.pageBuilt(request, pruned) ?? joinFrames(framePage(readFromRows(request.userId, this.rowPage(request, pruned)), request));
    }));
  }

  /** The page as SQLite wrote it, or null when it must be read as rows (see joinedFrames). */
  private pageBuilt(request: FrameReadRequest, pruned: Pruned): JoinedFramePage | null {
    const { bySeq, ofQueue, position } = readShape(request);
    const [[text, seqList, count, collapsing, queueIds]] = this.sqlite.rows<BuiltPageRow>(
      frameReadText(bySeq, ofQueue, request.collapse, request.limit + 1, request.dialect),
      quotedQueuePrefix(request.publicUrl), request.userId, position, ...(ofQueue ? [request.queueId] : []));
    if (count === 0) return emptyPage(truncatedSince(request, pruned));
    if (collapsing > 0 || !queueIds!.split(',').every((id) => isPlainQueueName(this.queueName(Number(id)) ?? ''))) return null;
    // The aggregates take the rows in one order, the same for both; ascending seqs say it is the page's.
    const seqs = seqList!.split(',').map(Number);
    for (let index = 1; index < count; index++) if (seqs[index] <= seqs[index - 1]) return null;
    // A frame holds no newline of its own: its body is stored as JSON.stringify wrote it
    // (appendColumns), its queue's name is plain, and the rest is digits and fixed text.
    const kept = Math.min(count, request.limit);
    const lengths = new Array<number>(kept);
    let start = 0;
    for (let index = 0; index < kept; index++) {
      const end = index === count - 1 ? text!.length : text!.indexOf('\n', start);
      lengths[index] = end - start;
      start = end + 1;
    }
    return {
      text: text!.slice(0, Math.max(0, start - 1)), lengths, seqs: seqs.slice(0, kept), collapseKeys: null, more: count > request.limit,
      truncated: truncatedSince(request, pruned),
    };
  }

  /**
   * Reads as rows (what `read` sends to the caller's thread). Collapsing keeps the newest row of
   * each (queue, kind, replaceId) group at its own position, so the newest row overall always
   * survives and "resume after the last key returned" skips nothing that matters. `limit` counts
   * after collapsing; one extra row tells `more`.
   */
  readRows(requests: readonly ReadRequest[]): RowPage[] {
    return this.sqlite.snapshot(() => requests.map((request) => {
      const pruned = this.prunedOf(request);
      return pruned ? this.rowPage(request, pruned) : NO_ROWS;
    }));
  }

  /** Up to where retention pruned the user's messages (or the queue's); undefined when there is no such user or queue. */
  private prunedOf(request: ReadRequest): Pruned | undefined {
    return request.queueId === undefined
      ? this.sqlite.get<Pruned>('SELECT pruned_seq, pruned_ts FROM users WHERE id = ?', request.userId)
      : this.sqlite.get<Pruned>('SELECT pruned_seq, pruned_ts FROM queues WHERE id = ?', request.queueId);
  }

  private rowPage(request: ReadRequest, pruned: Pruned): RowPage {
    const { bySeq, ofQueue, position } = readShape(request);
    const rows = this.sqlite.rows<ColumnRow>(readText(bySeq, ofQueue, request.collapse, request.limit + 1),
      request.userId, position, ...(ofQueue ? [request.queueId] : []));
    return { rows: this.named(rows.slice(0, request.limit)), more: rows.length > request.limit, truncated: truncatedSince(request, pruned) };
  }

  /** The rows with their queue's name in place of its id; a row whose queue is gone would be dropped (none are: a queue's messages go with it). */
  private named(rows: readonly ColumnRow[]): MessageRow[] {
    const named: MessageRow[] = [];
    for (const [seq, queueId, micros, kind, replaceId, bodyJson] of rows) {
      const queue = this.queueName(queueId);
      if (queue !== undefined) named.push([seq, queue, micros, kind, replaceId, bodyJson]);
    }
    return named;
  }

  private queueName(queueId: number): string | undefined {
    let name = this.queueNames.get(queueId);
    if (name === undefined) {
      name = this.sqlite.get<{ name: string }>('SELECT name FROM queues WHERE id = ?', queueId)?.name;
      if (name === undefined) return undefined;
      if (this.queueNames.size >= QUEUE_NAMES_KEPT) this.queueNames.clear();
      this.queueNames.set(queueId, name);
    }
    return name;
  }

  async ranges(requests: readonly RangeRequest[]): Promise<StoredJsonMessage[][]> {
    return this.rangeRows(requests).map((rows, index) => messagesFromRows(requests[index].userId, rows));
  }

  /** `ranges` as rows (what crosses to the caller's thread). */
  rangeRows(requests: readonly RangeRequest[]): MessageRow[][] {
    return this.sqlite.snapshot(() => requests.map(({ userId, afterSeq, uptoSeq, max }) => this.named(this.sqlite.rows<ColumnRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.user_id = ? AND m.seq > ? AND m.seq <= ? ORDER BY m.seq LIMIT ${atLeast(max)}`, userId, afterSeq, uptoSeq).slice(0, max))));
  }

  async hasMessage(userId: number, seq: number): Promise<boolean> {
    return this.sqlite.get('SELECT 1 FROM messages WHERE user_id = ? AND seq = ?', userId, seq) !== undefined;
  }

  async lastSeqs(userIds: readonly number[]): Promise<Map<number, number>> {
    return this.sqlite.snapshot(() => {
      const seqs = new Map<number, number>();
      for (const userId of new Set(userIds)) {
        const row = this.sqlite.get<{ last_seq: number }>(LAST_SEQ_OF_USER, userId);
        if (row) seqs.set(userId, row.last_seq);
      }
      return seqs;
    });
  }

  /**
   * Expired messages first, then each touched queue beyond its backlog, PRUNE_CHUNK queues per
   * transaction; between transactions the thread answers what waits (appends above all).
   */
  async prune(nowMicros: number, backlog: number, queueIds: readonly number[]): Promise<number> {
    let removed = this.sqlite.transaction(() => this.removeWhere('DELETE FROM messages WHERE expires_at <= ?', nowMicros));
    for (let start = 0; start < queueIds.length; start += PRUNE_CHUNK) {
      await new Promise((resolve) => setImmediate(resolve));
      removed += this.sqlite.transaction(() => {
        let chunkRemoved = 0;
        for (const queueId of queueIds.slice(start, start + PRUNE_CHUNK)) {
          const owner = this.sqlite.get<{ user_id: number }>('SELECT user_id FROM queues WHERE id = ?', queueId)?.user_id;
          if (owner === undefined) continue;
          const cutoff = this.sqlite.get<{ seq: number }>('SELECT seq FROM messages WHERE user_id = ? AND queue_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?', owner, queueId, backlog);
          if (cutoff) chunkRemoved += this.removeWhere('DELETE FROM messages WHERE user_id = ? AND queue_id = ? AND seq <= ?', owner, queueId, cutoff.seq);
        }
        return chunkRemoved;
      });
    }
    return removed;
  }

  /** Runs `deletion` (a DELETE on messages), removes the pushes of what it deleted and raises the pruned marks of their users and queues. */
  private removeWhere(deletion: string, ...params: unknown[]): number {
    const gone = this.sqlite.all<{ user_id: number; queue_id: number; seq: number; ts: number }>(`${deletion} RETURNING user_id, queue_id, seq, ts`, ...params);
    const raise = (marks: Map<number, { seq: number; ts: number }>, id: number, seq: number, ts: number) => {
      const mark = marks.get(id);
      marks.set(id, { seq: Math.max(mark?.seq ?? 0, seq), ts: Math.max(mark?.ts ?? 0, ts) });
    };
    const byUser = new Map<number, { seq: number; ts: number }>();
    const byQueue = new Map<number, { seq: number; ts: number }>();
    for (const row of gone) {
      raise(byUser, row.user_id, row.seq, row.ts);
      raise(byQueue, row.queue_id, row.seq, row.ts);
      // a message's push results and pending pushes go with it
      this.sqlite.run('DELETE FROM push_jobs WHERE user_id = ? AND seq = ?', row.user_id, row.seq);
      this.sqlite.run('DELETE FROM push_checks WHERE user_id = ? AND seq = ?', row.user_id, row.seq);
    }
    for (const [id, mark] of byUser) this.sqlite.run('UPDATE users SET pruned_seq = max(pruned_seq, ?), pruned_ts = max(pruned_ts, ?) WHERE id = ?', mark.seq, mark.ts, id);
    for (const [id, mark] of byQueue) this.sqlite.run('UPDATE queues SET pruned_seq = max(pruned_seq, ?), pruned_ts = max(pruned_ts, ?) WHERE id = ?', mark.seq, mark.ts, id);
    return gone.length;
  }

  async close(): Promise<void> {
    this.sqlite.close();
  }
}
