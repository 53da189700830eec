import { userTopic, type BusSubscriber } from '../core/bus.js';
import type { Logger } from '../core/log.js';
import { metrics } from '../core/metrics.js';
import type { StoredMessage } from '../core/message.js';
import type { Presence } from '../core/presence/presence.js';
import type { Store } from '../core/store/store.js';
import type { Connection } from './connection.js';

export interface HubOptions {
  gatewayId: string;
  /** After a bus subscription, how long until it surely reached the broker (then check the store). */
  settleMs: number;
  resyncMs: number;
}

const VERIFY_CHUNK = 5000;
const ACK_FLUSH_MS = 250;
const MAX_LATENCY_SAMPLES = 20_000;

/**
 * The connections of one gateway, by user. Subscribes the bus to exactly the users held here,
 * and checks the store whenever the bus may have dropped something: shortly after each
 * subscription (ZeroMQ subscriptions take a moment to reach the broker), after the bus
 * reconnects, and every `resyncMs` as a backstop.
 */
export class Hub {
  private readonly users = new Map<number, Set<Connection>>();
  private readonly unsettled = new Set<number>();
  private readonly acks = new Map<number, number>();
  private readonly timers: NodeJS.Timeout[] = [];
  private settleTimer: NodeJS.Timeout | null = null;
  delivered = 0;
  /** Commit → delivery latencies (ms) since the last heartbeat. */
  private latencies: number[] = [];

  constructor(
    private readonly bus: BusSubscriber,
    private readonly store: Store,
    private readonly presence: Presence,
    private readonly options: HubOptions,
    private readonly log: Logger,
  ) {
    bus.onReconnect = () => {
      log.warn('bus reconnected: re-reading connected users from the store');
      void this.verify([...this.users.keys()]);
      this.settle([...this.users.keys()]);
    };
    this.timers.push(setInterval(() => void this.verify([...this.users.keys()]), options.resyncMs));
    this.timers.push(setInterval(() => void this.flushAcks(), ACK_FLUSH_MS));
  }

  /** Kept as sockets come and go: heartbeats and /health read it, and walking every user would not scale. */
  connections = 0;

  /** Subscribes the user's topic (first socket) and records presence. Call before reading the store. */
  attach(connection: Connection): void {
    let set = this.users.get(connection.userId);
    if (!set) {
      set = new Set();
      this.users.set(connection.userId, set);
      this.bus.subscribe(userTopic(connection.userId));
    }
    set.add(connection);
    this.connections++;
    metrics.connections.inc();
    this.settle([connection.userId]);
    this.presence.add(connection.userId, this.options.gatewayId).catch((error) => this.log.warn({ err: error }, 'presence add failed'));
  }

  detach(connection: Connection): void {
    const set = this.users.get(connection.userId);
    if (!set?.delete(connection)) return;
    this.connections--;
    metrics.connections.dec();
    if (set.size === 0) {
      this.users.delete(connection.userId);
      this.bus.unsubscribe(userTopic(connection.userId));
    }
    this.presence.remove(connection.userId, this.options.gatewayId).catch((error) => this.log.warn({ err: error }, 'presence remove failed'));
  }

  deliver(message: StoredMessage): void {
    const set = this.users.get(message.userId);
    if (!set) return;
    const lagSeconds = Math.max(0, Date.now() / 1000 - message.micros / 1e6);
    metrics.busLag.observe(lagSeconds);
    if (this.latencies.length < MAX_LATENCY_SAMPLES) this.latencies.push(lagSeconds * 1000);
    for (const connection of set) connection.offer(message);
    this.delivered += set.size;
  }

  /** p99 of the latencies since the last call, then starts a new period. */
  takeP99LatencyMs(): number | null {
    const sorted = this.latencies.sort((a, b) => a - b);
    this.latencies = [];
    return sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] * 100) / 100 : null;
  }

  ack(userId: number, seq: number): void {
    if (seq > (this.acks.get(userId) ?? 0)) this.acks.set(userId, seq);
  }

  private settle(userIds: number[]): void {
    for (const id of userIds) this.unsettled.add(id);
    this.settleTimer ??= setTimeout(() => {
      this.settleTimer = null;
      const ids = [...this.unsettled];
      this.unsettled.clear();
      void this.verify(ids);
    }, this.options.settleMs);
  }

  /** Compares each user's stored sequence with what their sockets got, and repairs. */
  async verify(userIds: number[]): Promise<void> {
    for (let start = 0; start < userIds.length; start += VERIFY_CHUNK) {
      const chunk = userIds.slice(start, start + VERIFY_CHUNK);
      try {
        const stored = await this.store.lastSeqs(chunk);
        for (const [userId, seq] of stored) for (const connection of this.users.get(userId) ?? []) connection.verify(seq);
      } catch (error) {
        this.log.warn({ err: error }, 'store check failed; will retry at the next resync');
      }
    }
  }

  private async flushAcks(): Promise<void> {
    const acks = [...this.acks];
    this.acks.clear();
    for (const [userId, seq] of acks) {
      await this.presence.ack(userId, seq).catch((error) => this.log.warn({ err: error }, 'ack not recorded'));
    }
  }

  async close(): Promise<void> {
    this.timers.forEach(clearInterval);
    if (this.settleTimer) clearTimeout(this.settleTimer);
    await this.flushAcks();
    await this.presence.dropGateway(this.options.gatewayId).catch((error) => this.log.warn({ err: error }, 'presence not cleared'));
  }
}
