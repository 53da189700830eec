import type { StoredMessage } from '../core/message.js';
import type { Dialect } from '../sdk/wire.js';
import type { Connection } from './connection.js';
import { Delivery, type DeliveryContext, type StillOnTheBus } from './delivery.js';
import { TopicSink } from './sink.js';

/** What every group of a gateway shares. */
export interface GroupContext {
  /** The deliveries' context of each dialect. */
  deliveries: Record<Dialect, DeliveryContext>;
  /** Publishes a frame to the group's topic (uWS writes it to every member natively). */
  publish(group: Group, frame: string): void;
}

/**
 * A user's in-step sockets of one dialect. One delivery orders, holds and repairs for all of
 * them and writes each frame once, to the topic they subscribe. A socket joins only when its own
 * delivery is live with nothing waiting and at the group's position, so it neither misses nor
 * repeats a message; it leaves when its buffer grows (backpressure) or the group fails, and goes
 * on from the group's position on its own.
 */
export class Group {
  readonly members = new Set<Connection>();
  private delivery: Delivery | null = null;

  constructor(
    readonly userId: number,
    readonly topic: string,
    /** The delivery context of the group's dialect. */
    private readonly deliveryContext: DeliveryContext,
    private readonly context: GroupContext,
    /** A member left and delivers on its own again. */
    private readonly onLeft: (connection: Connection) => void,
  ) {}

  get lastSeq(): number {
    return this.delivery?.sentSeq ?? 0;
  }

  get highestSeen(): number {
    return this.delivery?.highestSeen ?? 0;
  }

  offer(message: StoredMessage): void {
    this.delivery?.offer(message);
  }

  verify(storedLastSeq: number, stillOnTheBus: StillOnTheBus): void {
    this.delivery?.verify(storedLastSeq, stillOnTheBus);
  }

  /**
   * Takes in a connection that is in sync; the first one starts the group at its position. False
   * while the group is elsewhere (repairing, or ahead): the connection stays on its own for now.
   */
  admit(connection: Connection): boolean {
    if (!this.delivery) {
      const sink = new TopicSink(this.members, (frame) => this.context.publish(this, frame), () => this.dissolve());
      this.delivery = new Delivery(this.userId, sink, this.deliveryContext);
      void this.delivery.start(connection.lastSeq, undefined, 0);
    }
    if (!this.delivery.inSync || this.delivery.sentSeq !== connection.lastSeq) return false;
    this.members.add(connection);
    connection.joined(this);
    return true;
  }

  /** A member's socket closed. False if it was not a member. */
  remove(connection: Connection): boolean {
    if (!this.members.delete(connection)) return false;
    this.stopIfEmpty();
    return true;
  }

  /** Members whose socket buffer grew past the soft limit go back to their own collapsing queue. */
  shedBehind(): void {
    for (const connection of this.members) if (connection.behind) this.release(connection);
  }

  private release(connection: Connection): void {
    this.members.delete(connection);
    connection.left();
    this.onLeft(connection);
    this.stopIfEmpty();
  }

  /** The group's delivery failed (store unavailable): every member goes on alone. */
  private dissolve(): void {
    for (const connection of this.members) this.release(connection);
  }

  /** A group without members stops, so a repair still reading cannot send into the next delivery's topic. */
  private stopIfEmpty(): void {
    if (this.members.size > 0) return;
    this.delivery?.stop();
    this.delivery = null;
  }
}
