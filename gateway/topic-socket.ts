import type { Socket } from './connection.js';

/**
 * The socket of a group delivery: one send publishes the frame to a uWS topic, and uWS writes
 * it to every subscribed member natively. Members' backpressure is watched by the hub, which
 * moves a member that falls behind back to its own delivery.
 */
export class TopicSocket implements Socket {
  constructor(
    private readonly topic: string,
    private readonly members: ReadonlySet<unknown>,
    private readonly publish: (topic: string, frame: string) => void,
    private readonly onClose: () => void,
  ) {}

  get receivers(): number {
    return this.members.size;
  }

  send(frame: string): void {
    this.publish(this.topic, frame);
  }

  batch(sends: () => void): void {
    sends();
  }

  bufferedAmount(): number {
    return 0;
  }

  /** The group's delivery failed (store unavailable): its members go back to their own. */
  close(): void {
    this.onClose();
  }

  // A group is never itself a member of a group.
  subscribe(): void {}
  unsubscribe(): void {}
}
