import type { Since } from '../core/ids.js';
import type { StoredMessage } from '../core/message.js';
import type { ControlFrame } from '../sdk/wire.js';
import { realClock, type Clock } from './clock.js';
import { Delivery, type DeliveryOptions, type History, type StillOnTheBus } from './delivery.js';
import type { FrameFormat } from './frames.js';
import type { Group } from './group.js';
import type { Sink } from './sink.js';

/** What a connection needs of its client's socket: a sink, and topics to join while in a group. */
export interface MemberSocket extends Sink {
  /** Joins a topic: what is published to it reaches this socket, in order with its own sends. */
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
}

/**
 * One client socket of a user. It receives through its own delivery while it catches up,
 * repairs or lags behind, and through its dialect's group (one delivery to a topic all the
 * group's sockets subscribe) while it is in step with the user's other sockets.
 */
export class Connection {
  /** Its own delivery, which also keeps the user, the options and the dialect (one copy: a connection's fields are in every idle socket's memory). */
  private readonly own: Delivery;
  private group: Group | null = null;

  constructor(
    userId: number,
    private readonly socket: MemberSocket,
    history: History,
    options: DeliveryOptions,
    frames: FrameFormat,
    clock: Clock = realClock,
  ) {
    this.own = new Delivery(userId, socket, history, options, frames, clock);
  }

  get userId(): number {
    return this.own.userId;
  }

  /** The dialect's frames. */
  get frames(): FrameFormat {
    return this.own.frames;
  }

  /**
   * Starts delivery. The caller has subscribed this user on the bus and then read
   * `storedLastSeq`, so nothing committed afterwards can be missed. Without `since` only new
   * messages are sent; with it, a first catch-up page.
   */
  start(storedLastSeq: number, since: Since | undefined, limit: number): Promise<void> {
    return this.own.start(storedLastSeq, since, limit);
  }

  /** The next catch-up page, after `more: true`. */
  fetch(since: Since, limit: number): Promise<void> {
    return this.own.fetch(since, limit);
  }

  get paging(): boolean {
    return this.own.paging;
  }

  /** Every message of the user with seq <= lastSeq has been sent to this socket: by its own delivery, or its group's. */
  get lastSeq(): number {
    return this.group ? this.group.lastSeq : this.own.lastSeq;
  }

  /** Delivering on its own, live, with nothing held or waiting: fit to join its group. */
  get inSync(): boolean {
    return this.group === null && this.own.inSync;
  }

  /** Past the soft backpressure limit: such a socket needs its own collapsing queue. */
  get behind(): boolean {
    return this.own.behind;
  }

  /** A message from the bus, while delivering on its own. */
  offer(message: StoredMessage): void {
    this.own.offer(message);
  }

  /** The store says the user's sequence reached `storedLastSeq` (while delivering on its own). */
  verify(storedLastSeq: number, stillOnTheBus: StillOnTheBus): void {
    this.own.verify(storedLastSeq, stillOnTheBus);
  }

  /** A control frame to this socket alone, in order with what it was sent before. */
  sendControl(frame: ControlFrame): void {
    this.own.sendControl(frame);
  }

  /** The socket drained some of its buffer. */
  drain(): void {
    this.own.drain();
  }

  /** Frames waiting in this socket's own queue. */
  get waiting(): number {
    return this.own.waiting;
  }

  /** The group took this socket in, at its position. */
  joined(group: Group): void {
    this.group = group;
    this.socket.subscribe(group.topic);
  }

  /** Out of the group: on its own again from where the group got to. */
  left(): void {
    if (!this.group) return;
    const group = this.group;
    this.group = null;
    this.socket.unsubscribe(group.topic);
    this.own.resumeAt(group.lastSeq, group.highestSeen);
  }

  close(code: number, reason: string): void {
    this.own.close(code, reason);
  }

  /** The socket closed: nothing more is sent or read for it. */
  stop(): void {
    this.own.stop();
  }
}
