import type { Heartbeat } from '../bus/bus.js';

/**
 * Who is connected, and where. Gateways write it; later work (offline push) reads it to
 * decide whether a user can be reached live. Also keeps each user's acknowledged position.
 */
export interface Presence {
  /** One more live socket of this user on this gateway. */
  add(userId: number, gatewayId: string): Promise<void>;
  /** One socket fewer. */
  remove(userId: number, gatewayId: string): Promise<void>;
  /** Gateways holding at least one live socket of this user. */
  gatewaysOf(userId: number): Promise<string[]>;
  /** Which of these users have at least one live socket. */
  online(userIds: readonly number[]): Promise<Set<number>>;
  /** Forgets every socket of a gateway that died. */
  dropGateway(gatewayId: string): Promise<void>;
  /** The user has processed every message up to this seq (never moves backwards). */
  ack(userId: number, seq: number): Promise<void>;
  acked(userId: number): Promise<number>;
  ackedMany(userIds: readonly number[]): Promise<Map<number, number>>;
}

export interface NodeInfo extends Heartbeat {
  /** When the monitor last heard from it, ms since the epoch. */
  lastSeen: number;
}

/** Live gateways, written by the monitor from heartbeats, read by the api for /nodes/. */
export interface NodeRegistry {
  upsert(node: NodeInfo): Promise<void>;
  remove(id: string): Promise<void>;
  list(): Promise<NodeInfo[]>;
}

/** Remembers values for a while: each can be claimed once (HMAC nonces against replay). */
export interface NonceCache {
  /** True the first time `value` is claimed within `ttlSeconds`; false for a replay. */
  claim(value: string, ttlSeconds: number): Promise<boolean>;
}
