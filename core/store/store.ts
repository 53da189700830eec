import type { Since } from '../ids.js';
import type { MessageKind, StoredMessage } from '../message.js';
import type { FramePage, FrameReadRequest } from './frame-page.js';

export interface User {
  id: number;
  token: string;
  lastSeq: number;
}

export interface Queue {
  id: number;
  name: string;
  userId: number;
  /** NULL for the user's own queue. */
  domain: string | null;
  /** Read marker, microseconds since the epoch. */
  readMicros: number | null;
}

export interface NewMessage {
  queueId: number;
  /** The queue's name (what its URL ends with), known to every caller: the store need not look it up. */
  queue: string;
  userId: number;
  kind: MessageKind;
  replaceId: string | null;
  body: Record<string, unknown>;
  ttlSeconds: number;
}

export interface ReadRequest {
  userId: number;
  /** Only this queue; all of the user's queues when absent. */
  queueId?: number;
  /** Only messages after this position; from the oldest retained when absent. */
  since?: Since;
  /** At most this many messages, counted after collapsing. */
  limit: number;
  /** Keep only the newest message of each (queue, replaceId) group. */
  collapse: boolean;
}

/** A user's messages with afterSeq < seq <= uptoSeq, oldest first, at most `max`; no collapsing (what a repair sends). */
export interface RangeRequest {
  userId: number;
  afterSeq: number;
  uptoSeq: number;
  max: number;
}

export interface ReadResult {
  /** Oldest first. Collapsed groups appear at the position of their newest message. */
  messages: StoredMessage[];
  /** More messages follow the last one returned: read again with its key as `since`. */
  more: boolean;
  /** Retention removed messages after `since` that were never read here. */
  truncated: boolean;
}

/**
 * Durable state. `append` is the only way messages enter a user's sequence; sequence
 * numbers of one user commit in increasing order, so "after seq N" is exact.
 */
export interface Store {
  /** Appends that can usefully run at once (the database's connections). */
  readonly writers: number;
  migrate(): Promise<void>;
  /** Resolves when the database answers (readiness checks). */
  ping(): Promise<void>;
  /** A new user with their own queue. */
  createUser(token: string, ownQueueName: string): Promise<{ user: User; queue: Queue }>;
  userByToken(token: string): Promise<User | null>;
  /** Many lookups in one query (the gateway batches the authentications of a reconnect storm). */
  usersByTokens(tokens: readonly string[]): Promise<Map<string, User>>;
  /** The user's queue for this domain, created when missing. */
  queueForDomain(userId: number, domain: string, name: string): Promise<Queue>;
  queueCount(userId: number): Promise<number>;
  queuesOf(userId: number): Promise<Queue[]>;
  queueByName(name: string): Promise<Queue | null>;
  /** Many lookups in one query (a batch publish names many queues). */
  queuesByNames(names: readonly string[]): Promise<Map<string, Queue>>;
  deleteQueue(queueId: number): Promise<void>;
  setReadMarker(queueId: number, micros: number): Promise<void>;
  /** Stores a batch in one transaction. Null for a message whose queue no longer exists. */
  append(batch: readonly NewMessage[]): Promise<(StoredMessage | null)[]>;
  read(request: ReadRequest): Promise<ReadResult>;
  /** Several reads in one round trip, each page as its dialect's frames (catch-ups), results in request order. */
  readFrames(requests: readonly FrameReadRequest[]): Promise<FramePage[]>;
  /** Several ranges in one round trip (the gateway batches the repairs after a bus outage), results in request order. */
  ranges(requests: readonly RangeRequest[]): Promise<StoredMessage[][]>;
  /** Whether this user's sequence holds this seq. */
  hasMessage(userId: number, seq: number): Promise<boolean>;
  /** The last committed seq of each user. */
  lastSeqs(userIds: readonly number[]): Promise<Map<number, number>>;
  /** Removes expired messages and those past each touched queue's backlog; returns how many. */
  prune(nowMicros: number, backlog: number, queueIds: readonly number[]): Promise<number>;
  /** Records that these users were active (a websocket, a request with their token) at `nowMicros`. */
  touchUsers(userIds: readonly number[], nowMicros: number): Promise<void>;
  /**
   * Deletes up to `limit` users idle since before `idleBeforeMicros` that hold nothing but their
   * own queue (no domain queue, no device), with their queue and its messages; returns how many.
   */
  expireIdleUsers(idleBeforeMicros: number, limit: number): Promise<number>;
  close(): Promise<void>;
}
