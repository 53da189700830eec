import { userTopic, type BusSubscriber } from '../core/bus/bus.js';
import type { Logger } from '../core/log.js';
import { metrics } from '../core/metrics.js';
import type { StoredMessage } from '../core/message.js';
import type { Presence } from '../core/presence/presence.js';
import type { Store } from '../core/store/store.js';
import { Connection, type DeliveryOptions, type History } from './connection.js';
import { AckBuffer } from './ack-buffer.js';
import { LatencyWindow } from './latency-window.js';
import { SettleSchedule } from './settle-schedule.js';
import { TopicSocket } from './topic-socket.js';

export interface HubOptions {
  gatewayId: string;
  delivery: DeliveryOptions;
  /** Publishes a frame to every socket subscribed to a server-side topic, natively (uWS). */
  publish(topic: string, frame: string): void;
  /** After a bus subscription, when to check the store for what the bus may have dropped meanwhile. */
  settleChecksMs: readonly number[];
  resyncMs: number;
}

const VERIFY_CHUNK = 5000;
const ACK_FLUSH_MS = 250;
/** How often sockets that just got group sends are checked for backpressure. */
const BACKPRESSURE_CHECK_MS = 50;

/**
 * A user's sockets here. Those in step are `members` of one group delivery that sends each
 * message once to the user's uWS topic; the rest (catching up, repairing, slow) are `solo`,
 * each with its own delivery. A group is a Connection too, so it orders, holds and repairs
 * gaps from the store once for all its members.
 */
interface UserSockets {
  topic: string;
  group: Connection | null;
  members: Set<Connection>;
  solo: Set<Connection>;
}

/**
 * The connections of one gateway, by user. Subscribes the bus to exactly the users held here,
 * and checks the store whenever the bus may have dropped something: shortly after each
 * subscription (ZeroMQ subscriptions take a moment to reach the broker), after the bus
 * reconnects, and every `resyncMs` as a backstop.
 */
export class Hub {
  private readonly users = new Map<number, UserSockets>();
  /** Users whose group got a publish since the last backpressure check. */
  private readonly published = new Set<UserSockets>();
  private readonly settling: SettleSchedule;
  private readonly acks = new AckBuffer();
  private readonly timers: NodeJS.Timeout[] = [];
  delivered = 0;
  private readonly latencies = new LatencyWindow();

  constructor(
    private readonly bus: BusSubscriber,
    /** The connections' history (groups read theirs through it too), and the store's sequence check. */
    private readonly store: { history: History } & Pick<Store, 'lastSeqs'>,
    private readonly presence: Presence,
    private readonly options: HubOptions,
    private readonly log: Logger,
  ) {
    this.settling = new SettleSchedule(options.settleChecksMs, (userIds) => void this.verify(userIds));
    bus.onReconnect = () => {
      log.warn('bus reconnected: re-reading connected users from the store');
      void this.verify([...this.users.keys()]);
      this.settling.add([...this.users.keys()]);
    };
    this.timers.push(setInterval(() => void this.verify([...this.users.keys()]), options.resyncMs));
    this.timers.push(setInterval(() => void this.flushAcks(), ACK_FLUSH_MS));
    this.timers.push(setInterval(() => this.checkBackpressure(), BACKPRESSURE_CHECK_MS));
  }

  /** Kept as sockets come and go: heartbeats and /health read it, and walking every user would not scale. */
  connections = 0;

  /** Subscribes the user's topic (first socket) and records presence. Call before reading the store. */
  attach(connection: Connection): void {
    let user = this.users.get(connection.userId);
    if (!user) {
      user = { topic: `u${connection.userId}`, group: null, members: new Set(), solo: new Set() };
      this.users.set(connection.userId, user);
      this.bus.subscribe(userTopic(connection.userId));
    }
    user.solo.add(connection);
    this.connections++;
    metrics.connections.inc();
    this.settling.add([connection.userId]);
    this.presence.add(connection.userId, this.options.gatewayId).catch((error) => this.log.warn({ err: error }, 'presence add failed'));
  }

  detach(connection: Connection): void {
    const user = this.users.get(connection.userId);
    if (!user || !(user.solo.delete(connection) || user.members.delete(connection))) return;
    this.connections--;
    metrics.connections.dec();
    if (user.members.size === 0) this.dropGroup(user);
    if (user.solo.size === 0 && user.members.size === 0) {
      this.users.delete(connection.userId);
      this.bus.unsubscribe(userTopic(connection.userId));
    }
    this.presence.remove(connection.userId, this.options.gatewayId).catch((error) => this.log.warn({ err: error }, 'presence remove failed'));
  }

  deliver(message: StoredMessage): void {
    const user = this.users.get(message.userId);
    if (!user) return;
    const lagSeconds = Math.max(0, Date.now() / 1000 - message.micros / 1e6);
    metrics.busLag.observe(lagSeconds);
    this.latencies.add(lagSeconds * 1000);
    this.delivered += user.members.size + user.solo.size;
    user.group?.offer(message);
    for (const connection of user.solo) {
      connection.offer(message);
      if (connection.inSync) this.join(user, connection);
    }
  }

  /** Moves an in-step socket into the user's group, starting the group at its position if there is none. */
  private join(user: UserSockets, connection: Connection): void {
    if (!user.group) {
      const group = new Connection(connection.userId, new TopicSocket(user.topic, user.members, (topic, frame) => {
        this.options.publish(topic, frame);
        this.published.add(user);
      }, () => this.dissolve(user)), this.store.history, this.options.delivery);
      void group.start(connection.lastSeq, undefined, 0);
      user.group = group;
    }
    if (!user.group.inSync || user.group.lastSeq !== connection.lastSeq) return;
    user.solo.delete(connection);
    user.members.add(connection);
    connection.joinGroup(user.group, user.topic);
  }

  private leave(user: UserSockets, connection: Connection): void {
    user.members.delete(connection);
    user.solo.add(connection);
    connection.leaveGroup();
    if (user.members.size === 0) this.dropGroup(user);
  }

  /** A group without members stops, so a repair still reading cannot send into a later group's topic. */
  private dropGroup(user: UserSockets): void {
    if (user.group) user.group.closed = true;
    user.group = null;
  }

  private dissolve(user: UserSockets): void {
    for (const connection of user.members) this.leave(user, connection);
  }

  /** A member whose socket buffer grew past the soft limit goes back to its own collapsing queue. */
  private checkBackpressure(): void {
    for (const user of this.published) {
      for (const connection of user.members) if (connection.behind) this.leave(user, connection);
    }
    this.published.clear();
  }

  /** p99 of the commit → delivery latencies since the last call (a heartbeat's period). */
  takeP99LatencyMs(): number | null {
    return this.latencies.takeP99();
  }

  ack(userId: number, seq: number): void {
    this.acks.record(userId, seq);
  }

  /** Compares each user's stored sequence with what their sockets got, and repairs. */
  async verify(userIds: number[]): Promise<void> {
    for (let start = 0; start < userIds.length; start += VERIFY_CHUNK) {
      const chunk = userIds.slice(start, start + VERIFY_CHUNK);
      try {
        const stored = await this.store.lastSeqs(chunk);
        for (const [userId, seq] of stored) {
          const user = this.users.get(userId);
          user?.group?.verify(seq);
          for (const connection of user?.solo ?? []) connection.verify(seq);
        }
      } catch (error) {
        this.log.warn({ err: error }, 'store check failed; will retry at the next resync');
      }
    }
  }

  private flushAcks(): Promise<void> {
    return this.acks.flush((userId, seq) => this.presence.ack(userId, seq).catch((error) => this.log.warn({ err: error }, 'ack not recorded')));
  }

  async close(): Promise<void> {
    this.timers.forEach(clearInterval);
    this.settling.close();
    await this.flushAcks();
    await this.presence.dropGateway(this.options.gatewayId).catch((error) => this.log.warn({ err: error }, 'presence not cleared'));
  }
}
