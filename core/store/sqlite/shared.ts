/**
 * What the embedded store's two threads share: operations in two steps whose middle runs on the
 * caller's thread (presence, a value to create), and the answer an append is rebuilt from.
 * Nothing here loads SQLite, so the main thread can import it.
 */
import { StoredJsonMessage, type MessageKind, type StoredMessage } from '../../message.js';
import { unstorable } from '../../storable.js';
import type { Reach } from '../outbox.js';
import type { NewMessage, ReadResult } from '../store.js';

/** A message to append with its body as the JSON text the database keeps. */
export type NewMessageText = Omit<NewMessage, 'body'> & { bodyJson: string };

/**
 * A message as an append takes it: its body serialised once, on the caller's thread (the text is
 * what is stored, what crosses to the database's thread, one string, and what frames splice in).
 * Refuses, as PostgreSQL does, what PostgreSQL cannot hold (a NUL, an unpaired surrogate, a number
 * that is not finite), with a data error's SQLSTATE (class 22: the publisher then retries the batch
 * without the message). SQLite could store them; refusing them keeps every store answering alike.
 */
export function asText({ body, ...message }: NewMessage): NewMessageText {
  const where = unstorable([message.replaceId, body, message.ttlSeconds]);
  if (where !== null) throw Object.assign(new Error(`not storable: ${where}`), { code: '22P05' });
  return { ...message, bodyJson: JSON.stringify(body) };
}

/** The stored messages of a batch, from what `appendKeys` answered for it. */
export function storedFrom(batch: readonly NewMessage[], texts: readonly NewMessageText[], keys: readonly ([number, number] | null)[]): (StoredMessage | null)[] {
  return keys.map((key, index) => key && {
    userId: batch[index].userId, seq: key[0], queue: batch[index].queue, micros: key[1],
    kind: batch[index].kind, replaceId: batch[index].replaceId, body: batch[index].body, bodyJson: texts[index].bodyJson,
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
