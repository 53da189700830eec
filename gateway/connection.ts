import { Delivery } from './delivery.js';
import type { Group } from './group.js';
import type { Sink } from './sink.js';

/** What a connection needs of its client's socket: a sink, and topics to join while in a group. */
export interface MemberSocket extends Sink {
  /** Joins a topic: what is published to it reaches this socket, in order with its own sends. */
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
}

/**
 * One client socket of a user. It receives through its own delivery (which it is: one object
 * rather than two, since idle connections are most of a gateway's memory) while it catches up,
 * repairs or lags behind, and through its dialect's group (one delivery to a topic all the
 * group's sockets subscribe) while it is in step with the user's other sockets.
 */
export class Connection extends Delivery<MemberSocket> {
  /** A connection is also its session's state, once authenticated (see `SessionState`). */
  kind: 'authenticated' | 'draining' = 'authenticated';
  private group: Group | null = null;

  /** Every message of the user with seq <= lastSeq has been sent to this socket: by its own delivery, or its group's. */
  get lastSeq(): number {
    return this.group ? this.group.lastSeq : this.sentSeq;
  }

  /** Delivering on its own, live, with nothing held or waiting: fit to join its group. */
  override get inSync(): boolean {
    return this.group === null && super.inSync;
  }

  /** The group took this socket in, at its position. */
  joined(group: Group): void {
    this.group = group;
    this.sink.subscribe(group.topic);
  }

  /** Out of the group: on its own again from where the group got to. */
  left(): void {
    if (!this.group) return;
    const group = this.group;
    this.group = null;
    this.sink.unsubscribe(group.topic);
    this.resumeAt(group.lastSeq, group.highestSeen);
  }
}
