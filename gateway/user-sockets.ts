import type { StoredMessage } from '../core/message.js';
import type { Dialect } from '../sdk/wire.js';
import type { Connection } from './connection.js';
import type { StillOnTheBus } from './delivery.js';
import { Group, type GroupContext } from './group.js';

const TOPIC_PREFIX: Record<Dialect, string> = { pushwire: 'u', original: 'o' };

/**
 * One user's sockets on a gateway: a group per dialect for those in step, and the rest
 * (catching up, repairing, slow, or alone in their dialect) `solo`, each with its own delivery.
 * A solo socket that gets in step joins its group as a message passes, once its dialect has two
 * sockets or more here.
 */
export class UserSockets {
  /**
   * A group per dialect, made when a socket gets in step while another of its dialect is here:
   * a user's lone socket (most users' case) costs no group. Two groups with their sets, closures
   * and topic names were ~0.6 KiB of an idle user's ~4 (`bench:memory --users each`). Two fields
   * rather than an object by dialect: that object was another ~60 bytes a user.
   */
  private pushwire: Group | undefined;
  private original: Group | undefined;
  private readonly solo = new Set<Connection>();

  constructor(readonly userId: number, private readonly context: GroupContext) {}

  get size(): number {
    return this.solo.size + (this.pushwire?.members.size ?? 0) + (this.original?.members.size ?? 0);
  }

  /** The group of a dialect's sockets in step, if one was made. */
  groupOf(dialect: Dialect): Group | undefined {
    return dialect === 'pushwire' ? this.pushwire : this.original;
  }

  /** A socket, on its own until it gets in step. */
  add(connection: Connection): void {
    this.solo.add(connection);
  }

  /** False if the connection was not here. */
  remove(connection: Connection): boolean {
    return this.solo.delete(connection) || (this.groupOf(connection.frames.dialect)?.remove(connection) ?? false);
  }

  /** A message from the bus: once to each group, and to each solo socket, which joins its group if now in step. */
  deliver(message: StoredMessage): void {
    this.pushwire?.offer(message);
    this.original?.offer(message);
    const grouping = this.dialectsToGroup();
    for (const connection of this.solo) {
      connection.offer(message);
      const dialect = connection.frames.dialect;
      if (grouping[dialect] && connection.inSync && this.group(dialect).admit(connection)) this.solo.delete(connection);
    }
  }

  /**
   * The dialects with two sockets or more here. A group is for those: for a lone socket (most
   * users' one) it would be a second delivery, a topic and a native subscription, ~0.9 KiB of
   * every user sent a message, to write what the socket's own delivery writes directly.
   */
  private dialectsToGroup(): Record<Dialect, boolean> {
    const sockets = { pushwire: this.pushwire?.members.size ?? 0, original: this.original?.members.size ?? 0 };
    for (const connection of this.solo) sockets[connection.frames.dialect]++;
    return { pushwire: sockets.pushwire > 1, original: sockets.original > 1 };
  }

  /** The store says the user's sequence reached `storedLastSeq`. */
  verify(storedLastSeq: number, stillOnTheBus: StillOnTheBus): void {
    this.pushwire?.verify(storedLastSeq, stillOnTheBus);
    this.original?.verify(storedLastSeq, stillOnTheBus);
    for (const connection of this.solo) connection.verify(storedLastSeq, stillOnTheBus);
  }

  /** The dialect's group, made now if it has none. */
  private group(dialect: Dialect): Group {
    const existing = this.groupOf(dialect);
    if (existing) return existing;
    const made = new Group(this.userId, `${TOPIC_PREFIX[dialect]}${this.userId}`, this.context.deliveries[dialect], this.context, (connection) => this.solo.add(connection));
    if (dialect === 'pushwire') this.pushwire = made;
    else this.original = made;
    return made;
  }
}
