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
import type { Dialect } from '../sdk/wire.js';

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
 * A user's in-step sockets of one dialect: `members` of one group delivery that sends each
 * message once, in that dialect's frames, to their uWS topic. A group is a Connection too, so it
 * orders, holds and repairs gaps from the store once for all its members.
 */
interface Group {
  userId: number;
  topic: string;
  delivery: Connection | null;
  members: Set<Connection>;
}

/** A user's sockets here: a group per dialect, and the rest (catching up, repairing, slow) `solo`, each with its own delivery. */
interface UserSockets {
  groups: Record<Dialect, Group>;
  solo: Set<Connection>;
}

const TOPIC_PREFIX: Record<Dialect, string> = { pushwire: 'u', original: 'o' };

/**
 * The connections of one gateway, by user. Subscribes the bus to exactly the users held here,
 * and checks the store whenever the bus may have dropped something: shortly after each
 * subscription (ZeroMQ subscriptions take a moment to reach the broker), after the bus
 * reconnects, and every `resyncMs` as a backstop.
 */
export class Hub {
  private readonly users = new Map<number, UserSockets>();
  /** Groups that got a publish since the last backpressure check. */
  private readonly published = new Set<Group>();
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
      const group = (dialect: Dialect): Group => ({ userId: connection.userId, topic: `${TOPIC_PREFIX[dialect]}${connection.userId}`, delivery: null, members: new Set() });
      user = { groups: { pushwire: group('pushwire'), original: group('original') }, solo: new Set() };
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
    const group = user?.groups[connection.frames.dialect];
    if (!user || !group || !(user.solo.delete(connection) || group.members.delete(connection))) return;
    this.connections--;
    metrics.connections.dec();
    if (group.members.size === 0) this.dropGroup(group);
    if (user.solo.size === 0 && user.groups.pushwire.members.size === 0 && user.groups.original.members.size === 0) {
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
    this.delivered += user.groups.pushwire.members.size + user.groups.original.members.size + user.solo.size;
    user.groups.pushwire.delivery?.offer(message);
    user.groups.original.delivery?.offer(message);
    for (const connection of user.solo) {
      connection.offer(message);
      if (connection.inSync) this.join(user, connection);
    }
  }

  /** Moves an in-step socket into its dialect's group, starting the group at its position if there is none. */
  private join(user: UserSockets, connection: Connection): void {
    const group = user.groups[connection.frames.dialect];
    if (!group.delivery) {
      group.delivery = new Connection(connection.userId, new TopicSocket(group.topic, group.members, (topic, frame) => {
        this.options.publish(topic, frame);
        this.published.add(group);
      }, () => this.dissolve(user, group)), this.store.history, this.options.delivery, connection.frames);
      void group.delivery.start(connection.lastSeq, undefined, 0);
    }
    if (!group.delivery.inSync || group.delivery.lastSeq !== connection.lastSeq) return;
    user.solo.delete(connection);
    group.members.add(connection);
    connection.joinGroup(group.delivery, group.topic);
  }

  private leave(user: UserSockets, group: Group, connection: Connection): void {
    group.members.delete(connection);
    user.solo.add(connection);
    connection.leaveGroup();
    if (group.members.size === 0) this.dropGroup(group);
  }

  /** A group without members stops, so a repair still reading cannot send into a later group's topic. */
  private dropGroup(group: Group): void {
    if (group.delivery) group.delivery.closed = true;
    group.delivery = null;
  }

  private dissolve(user: UserSockets, group: Group): void {
    for (const connection of group.members) this.leave(user, group, connection);
  }

  /** A member whose socket buffer grew past the soft limit goes back to its own collapsing queue. */
  private checkBackpressure(): void {
    for (const group of this.published) {
      const user = this.users.get(group.userId);
      if (!user) continue;
      for (const connection of group.members) if (connection.behind) this.leave(user, group, connection);
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
          user?.groups.pushwire.delivery?.verify(seq);
          user?.groups.original.delivery?.verify(seq);
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
