/**
 * Where a delivery writes its frames: one client's socket (a transport's ClientSocket is a Sink
 * as it is), or a group's topic, which reaches all its members at once.
 */
export interface Sink {
  send(frame: string): void;
  /** Runs `sends` so that its frames leave in as few writes as possible (uWS cork). */
  batch(sends: () => void): void;
  bufferedAmount(): number;
  /** The delivery gives up on this sink: a slow consumer, or the store is unavailable. */
  close(code: number, reason: string): void;
  /** How many clients one send reaches. */
  readonly receivers: number;
}

/**
 * A group's sink: one send publishes the frame to a uWS topic, and uWS writes it to every
 * subscribed member natively. A member that falls behind is moved out of the group by whoever
 * watches its socket, so the topic itself never holds frames back.
 */
export class TopicSink implements Sink {
  constructor(
    private readonly members: { readonly size: number },
    private readonly publish: (frame: string) => void,
    private readonly onClose: () => void,
  ) {}

  get receivers(): number {
    return this.members.size;
  }

  send(frame: string): void {
    this.publish(frame);
  }

  batch(sends: () => void): void {
    sends();
  }

  bufferedAmount(): number {
    return 0;
  }

  /** The group's delivery failed: its members go back to delivering on their own. */
  close(): void {
    this.onClose();
  }
}
