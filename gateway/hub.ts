import { EVERY_USER_TOPIC, userTopic, type BusSubscriber } from '../core/bus/bus.js';
import type { Logger } from '../core/log.js';
import { metrics } from '../core/metrics.js';
import type { StoredMessage } from '../core/message.js';
import type { Presence } from '../core/presence/presence.js';
import type { Store } from '../core/store/store.js';
import type { Dialect } from '../sdk/wire.js';
import { AckBuffer } from './ack-buffer.js';
import { ArmedTimer } from './armed-timer.js';
import { BusProgress } from './bus-progress.js';
import type { Connection } from './connection.js';
import { deliveryContexts, type DeliveryContext, type DeliveryOptions, type History } from './delivery.js';
import type { Group, GroupContext } from './group.js';
import { LatencyWindow } from './latency-window.js';
import { SettleSchedule } from './settle-schedule.js';
import { UserSockets } from './user-sockets.js';

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
/**
 * The backstop check goes through a gateway's users a slice at a time (by user id), one slice
 * every resyncMs / RESYNC_SLICES, so each user is still checked once every resyncMs. All at once,
 * a gateway's thousands of users were one burst of reads every resyncMs, and the messages
 * delivered during it waited: at 3,400 msg/s on circus.ini's one core, 30-200 of them a burst
 * took longer than 15 ms (up to 40).
 */
const RESYNC_SLICES = 10;
const ACK_FLUSH_MS = 250;
/** How soon after a group send its sockets are checked for backpressure. */
const BACKPRESSURE_CHECK_MS = 50;

/**
 * The registry of a gateway's connections, by user. Subscribes the bus to exactly the users held
 * here (or, on a bus in this process, to every user's messages, dropping the rest here),
 * and checks the store whenever the bus may have dropped something: shortly after each
 * subscription (ZeroMQ subscriptions take a moment to reach the broker), after the bus
 * reconnects, and every `resyncMs` as a backstop (a slice of the users at a time).
 */
export class Hub {
  /**
   * Each user's sockets here: the one connection (most users' case), or their UserSockets once
   * they have two. A lone socket is never grouped, so it needs nothing more (UserSockets was
   * another ~64 bytes of every connected user).
   */
  private readonly users = new Map<number, Connection | UserSockets>();
  /** Every delivery's shared context, by dialect: the connections' and the groups'. */
  readonly deliveries: Record<Dialect, DeliveryContext>;
  private readonly groups: GroupContext;
  /** Groups that got a publish since the last backpressure check. */
  private readonly published = new Set<Group>();
  private readonly settling: SettleSchedule;
  private readonly acks = new AckBuffer();
  private readonly ackFlush = new ArmedTimer(ACK_FLUSH_MS, () => void this.flushAcks());
  private readonly backpressureCheck = new ArmedTimer(BACKPRESSURE_CHECK_MS, () => this.checkBackpressure());
  private readonly resync: NodeJS.Timeout;
  /** The slice of users (their id modulo RESYNC_SLICES) the next backstop check reads. */
  private resyncSlice = 0;
  delivered = 0;
  private readonly latencies = new LatencyWindow();
  private readonly busProgress: BusProgress;

  constructor(
    private readonly bus: BusSubscriber,
    /** The connections' history (groups read theirs through it too), and the store's sequence check. */
    private readonly store: { history: History } & Pick<Store, 'lastSeqs'>,
    private readonly presence: Presence,
    private readonly options: HubOptions,
    private readonly log: Logger,
  ) {
    this.deliveries = deliveryContexts(store.history, options.delivery);
    this.groups = {
      deliveries: this.deliveries,
      publish: (group, frame) => {
        options.publish(group.topic, frame);
        this.published.add(group);
        this.backpressureCheck.arm();
      },
    };
    this.busProgress = new BusProgress(options.delivery.verifyGraceMs);
    if (!bus.filtersByUser) bus.subscribe(EVERY_USER_TOPIC);
    this.settling = new SettleSchedule(options.settleChecksMs, (userIds) => void this.verify(userIds));
    bus.onReconnect = () => {
      log.warn('bus reconnected: re-reading connected users from the store');
      void this.verify([...this.users.keys()]);
      this.settling.add([...this.users.keys()]);
    };
    this.resync = setInterval(() => void this.verify(this.nextResyncSlice()), options.resyncMs / RESYNC_SLICES);
  }

  /** Kept as sockets come and go: heartbeats and /health read it, and walking every user would not scale. */
  connections = 0;

  /** The users with a socket here. */
  userIds(): Iterable<number> {
    return this.users.keys();
  }

  /** Subscribes the user's topic (first socket, on a bus that filters by user) and records presence. Call before reading the store. */
  attach(connection: Connection): void {
    const user = this.users.get(connection.userId);
    if (user instanceof UserSockets) user.add(connection);
    else if (user) {
      const sockets = new UserSockets(connection.userId, this.groups);
      sockets.add(user);
      sockets.add(connection);
      this.users.set(connection.userId, sockets);
    } else {
      this.users.set(connection.userId, connection);
      if (this.bus.filtersByUser) this.bus.subscribe(userTopic(connection.userId));
    }
    this.connections++;
    metrics.connections.inc();
    this.settling.add([connection.userId]);
    this.presence.add(connection.userId, this.options.gatewayId).catch((error) => this.log.warn({ err: error }, 'presence add failed'));
  }

  detach(connection: Connection): void {
    const user = this.users.get(connection.userId);
    // Whether it was the user's last socket here.
    let last: boolean;
    if (user === connection) last = true;
    else if (user instanceof UserSockets && user.remove(connection)) last = user.size === 0;
    else return;
    this.connections--;
    metrics.connections.dec();
    if (last) {
      this.users.delete(connection.userId);
      if (this.bus.filtersByUser) this.bus.unsubscribe(userTopic(connection.userId));
    }
    this.presence.remove(connection.userId, this.options.gatewayId).catch((error) => this.log.warn({ err: error }, 'presence remove failed'));
  }

  deliver(message: StoredMessage): void {
    this.busProgress.brought(message.micros);
    const user = this.users.get(message.userId);
    if (!user) return;
    const lagSeconds = Math.max(0, Date.now() / 1000 - message.micros / 1e6);
    metrics.busLag.observe(lagSeconds);
    this.latencies.add(lagSeconds * 1000);
    if (user instanceof UserSockets) {
      this.delivered += user.size;
      user.deliver(message);
    } else {
      this.delivered++;
      user.offer(message);
    }
  }

  /** Members of groups that just published whose socket buffer grew go back to their own queues. */
  private checkBackpressure(): void {
    for (const group of this.published) group.shedBehind();
    this.published.clear();
  }

  /** p99 of the commit → delivery latencies since the last call (a heartbeat's period). */
  takeP99LatencyMs(): number | null {
    return this.latencies.takeP99();
  }

  ack(userId: number, seq: number): void {
    this.acks.record(userId, seq);
    this.ackFlush.arm();
  }

  /** The users of the next slice the backstop check reads. */
  private nextResyncSlice(): number[] {
    const slice = this.resyncSlice;
    this.resyncSlice = (slice + 1) % RESYNC_SLICES;
    const due: number[] = [];
    for (const userId of this.users.keys()) if (userId % RESYNC_SLICES === slice) due.push(userId);
    return due;
  }

  /** Compares each user's stored sequence with what their sockets got, and repairs. */
  async verify(userIds: number[]): Promise<void> {
    for (let start = 0; start < userIds.length; start += VERIFY_CHUNK) {
      const chunk = userIds.slice(start, start + VERIFY_CHUNK);
      try {
        const checkedAt = this.busProgress.now();
        const stored = await this.store.lastSeqs(chunk);
        const stillOnTheBus = () => this.busProgress.mayStillBring(checkedAt);
        for (const [userId, seq] of stored) {
          this.users.get(userId)?.verify(seq, stillOnTheBus);
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
    clearInterval(this.resync);
    this.ackFlush.stop();
    this.backpressureCheck.stop();
    this.settling.close();
    await this.flushAcks();
    await this.presence.dropGateway(this.options.gatewayId).catch((error) => this.log.warn({ err: error }, 'presence not cleared'));
  }
}
