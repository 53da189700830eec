/**
 * What the embedded store's two threads share: operations in two steps whose middle runs on the
 * caller's thread (presence, a value to create), and the answer an append is rebuilt from.
 * Nothing here loads SQLite, so the main thread can import it.
 */
import { StoredJsonMessage, type MessageKind, type StoredMessage } from '../../message.js';
import { unstorable } from '../../storable.js';
import type { Reach } from '../outbox.js';
import type { NewMessage, ReadResult } from '../store.js';

const KINDS: readonly MessageKind[] = ['message', 'read', 'marker'];

/**
 * A batch to append as it crosses to the database's thread: in columns, not objects (copying an
 * object copies its field names with each one; a typed array is one block of memory, the bodies
 * one string).
 */
export interface AppendColumns {
  /** Four a message: queueId, userId, ttlSeconds, kind (its index in KINDS). */
  numbers: Float64Array;
  /** The bodies' JSON texts, back to back, and each one's length. */
  bodies: string;
  bodyLengths: Uint32Array;
  replaceIds: (string | null)[];
}

/** One message of AppendColumns, as the append reads it. */
export interface AppendRow {
  queueId: number;
  userId: number;
  ttlSeconds: number;
  kind: MessageKind;
  replaceId: string | null;
  bodyJson: string;
}

/**
 * A batch as an append takes it, and each body's JSON text: serialised once, on the caller's
 * thread (the text is what is stored, what crosses to the database's thread, and what frames
 * splice in). Refuses, as PostgreSQL does, what PostgreSQL cannot hold (a NUL, an unpaired
 * surrogate, a number that is not finite), with a data error's SQLSTATE (class 22: the publisher
 * then retries the batch without the message). SQLite could store them; refusing them keeps every
 * store answering alike.
 */
export function appendColumns(batch: readonly NewMessage[]): { columns: AppendColumns; bodyJsons: string[] } {
  const numbers = new Float64Array(batch.length * 4);
  const bodyLengths = new Uint32Array(batch.length);
  const bodyJsons: string[] = [];
  const replaceIds: (string | null)[] = [];
  batch.forEach(({ queueId, userId, ttlSeconds, kind, replaceId, body }, index) => {
    const where = unstorable([replaceId, body, ttlSeconds]);
    if (where !== null) throw Object.assign(new Error(`not storable: ${where}`), { code: '22P05' });
    const bodyJson = JSON.stringify(body);
    numbers[index * 4] = queueId;
    numbers[index * 4 + 1] = userId;
    numbers[index * 4 + 2] = ttlSeconds;
    numbers[index * 4 + 3] = KINDS.indexOf(kind);
    bodyLengths[index] = bodyJson.length;
    bodyJsons.push(bodyJson);
    replaceIds.push(replaceId);
  });
  return { columns: { numbers, bodies: bodyJsons.join(''), bodyLengths, replaceIds }, bodyJsons };
}

/** Calls `each` with every message of AppendColumns and its index, in order. */
export function forEachAppendRow({ numbers, bodies, bodyLengths, replaceIds }: AppendColumns, each: (message: AppendRow, index: number) => void): void {
  let offset = 0;
  for (let index = 0; index < bodyLengths.length; index++) {
    const bodyJson = bodies.slice(offset, offset += bodyLengths[index]);
    const at = index * 4;
    each({ queueId: numbers[at], userId: numbers[at + 1], ttlSeconds: numbers[at + 2], kind: KINDS[numbers[at + 3]], replaceId: replaceIds[index], bodyJson }, index);
  }
}

/**
 * The stored messages of a batch, from what `appendKeys` answered for it: each message's seq and
 * timestamp, two numbers a message (a seq of 0: not stored, its queue is gone or not its user's).
 */
export function storedFrom(batch: readonly NewMessage[], bodyJsons: readonly string[], keys: Float64Array): (StoredMessage | null)[] {
  return batch.map((message, index) => {
    const seq = keys[index * 2];
    return seq === 0 ? null : {
      userId: message.userId, seq, queue: message.queue, micros: keys[index * 2 + 1],
      kind: message.kind, replaceId: message.replaceId, body: message.body, bodyJson: bodyJsons[index],
    };
  });
}

/**
 * A stored message as reads answer it across threads: its columns in an array (copying an array
 * of values costs less than an object, whose field names are copied with each one), the queue by
 * its name.
 */
export type MessageRow = [seq: number, queue: string, micros: number, kind: MessageKind, replaceId: string | null, bodyJson: string];

/** A read's rows, with what the reader is told about them. */
export interface RowPage { rows: MessageRow[]; more: boolean; truncated: boolean }

export function messagesFromRows(userId: number, rows: readonly MessageRow[]): StoredJsonMessage[] {
  return rows.map(([seq, queue, micros, kind, replaceId, bodyJson]) => new StoredJsonMessage(userId, seq, queue, micros, kind, replaceId, bodyJson));
}

export function readFromRows(userId: number, { rows, more, truncated }: RowPage): ReadResult {
  return { messages: messagesFromRows(userId, rows), more, truncated };
}

/** A push check that is due: `ts` is null when its message is gone already (the job records that it expired). */
export interface DueCheck { user_id: number; seq: number; ts: number | null }

/** The two halves of expandDue, here or on the database's thread (answering through promises). */
interface ExpandHalves {
  dueChecks(nowMicros: number, limit: number): DueCheck[] | Promise<DueCheck[]>;
  settleChecks(nowMicros: number, ackTimeoutMicros: number, due: readonly DueCheck[], reach: Reach): number | Promise<number>;
}

/** expandDue: the due checks, then presence about their users (asked on the caller's thread), then the decision. */
export async function expandInHalves(halves: ExpandHalves, nowMicros: number, limit: number, ackTimeoutMicros: number, reach: (userIds: number[]) => Promise<Reach>): Promise<number> {
  const due = await halves.dueChecks(nowMicros, limit);
  if (due.length === 0) return 0;
  return halves.settleChecks(nowMicros, ackTimeoutMicros, due, await reach([...new Set(due.map((check) => check.user_id))]));
}

/** The two steps of `setting`, here or on the database's thread (answering through promises). */
interface SettingSteps {
  settingValue(name: string): unknown;
  keepSetting(name: string, value: unknown): unknown;
}

/** A setting's value; `create` runs on the caller's thread, only when none is kept yet, and the first value kept wins. */
export async function settingIn<T>(steps: SettingSteps, name: string, create: () => T | Promise<T>): Promise<T> {
  return ((await steps.settingValue(name)) as T | undefined) ?? ((await steps.keepSetting(name, await create())) as T);
}
