import type { StoredMessage } from '../message.js';

/**
 * The bus is a fast hint, never the truth: everything sent on it is already in the store, and
 * gateways repair any gap from it (see gateway/connection.ts). Every topic ends with '.' so that
 * a prefix match (ZeroMQ's) of user 12 never matches user 123.
 */
export const HEARTBEAT_TOPIC = 'hb.';
export const userTopic = (userId: number): string => `u.${userId}.`;
/** Every user's messages: a prefix of each user's topic (ZeroMQ matches prefixes; the memory bus this one too). */
export const EVERY_USER_TOPIC = 'u.';

export interface Heartbeat {
  id: string;
  address: string;
  connections: number;
  messagesPerSecond: number;
  startedAt: number;
  /** p99 of commit → delivery (ms) over the last heartbeat period; null when nothing was delivered. */
  p99LatencyMs: number | null;
  /** What serves its websockets: `uws` (native uWebSockets.js) or `ws` (ws on node:http). */
  transport: string;
  /** The Node version it runs on. */
  node: string;
  /** Set on the last heartbeat of a gateway that is shutting down. */
  leaving?: boolean;
}

export type BusEvent =
  | { topic: 'user'; message: StoredMessage }
  | { topic: 'heartbeat'; heartbeat: Heartbeat };

/** Publishes without ever blocking the caller; a message that cannot be sent is only a missed hint. */
export interface BusPublisher {
  publishMessage(message: StoredMessage): void;
  publishHeartbeat(heartbeat: Heartbeat): void;
  close(): void;
}

/**
 * Receives bus events for the topics it is subscribed to (counted: two subscriptions need two
 * unsubscriptions). `onReconnect` fires each time the connection to the broker comes back after
 * a loss, which is when messages may have been missed.
 */
export interface BusSubscriber {
  /**
   * Whether subscribing each connected user's topic keeps the others' messages away. Over
   * ZeroMQ it does: they never cross the wire to this process. In one process every message is
   * at hand anyway, and a topic per user would only cost memory (a topic and map entries for
   * each connected user): there a subscriber takes `EVERY_USER_TOPIC` once instead.
   */
  readonly filtersByUser: boolean;
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  /** Delivers each event to `handle` until the subscriber is closed. */
  run(handle: (event: BusEvent) => void): Promise<void>;
  onReconnect: () => void;
  onDisconnect: () => void;
  readonly connected: boolean;
  close(): void;
}

/**
 * The bus between the roles: ZeroMQ between processes (through the broker), or in memory when
 * every role runs in one process (`npm start`), where a message reaches the gateway as the same
 * object the api stored, with no encoding, no copy and no thread hop.
 */
export interface Bus {
  readonly kind: 'memory' | 'zeromq';
  publisher(): BusPublisher;
  subscriber(): BusSubscriber;
}
