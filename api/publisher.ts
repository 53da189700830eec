import type { BusPublisher } from '../core/bus.js';
import type { Logger } from '../core/log.js';
import { PushwireError } from '../core/errors.js';
import type { StoredMessage } from '../core/message.js';
import type { NewMessage, Store } from '../core/store/store.js';

interface Pending {
  message: NewMessage;
  resolve: (stored: StoredMessage) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: publishes that arrive within `windowMs` (or until `max` are waiting) share one
 * transaction, so many publishers to one user do not serialise one commit at a time on the
 * user's row. Each publish resolves only after its transaction committed, then goes to the bus.
 */
export class Publisher {
  private batch: Pending[] = [];
  private timer: NodeJS.Timeout | null = null;
  private inFlight = new Set<Promise<void>>();
  /** Queues that received messages since the last retention sweep. */
  readonly touchedQueues = new Set<number>();

  constructor(
    private readonly store: Store,
    private readonly bus: BusPublisher,
    private readonly windowMs: number,
    private readonly max: number,
    private readonly log: Logger,
  ) {}

  publish(message: NewMessage): Promise<StoredMessage> {
    return new Promise((resolve, reject) => {
      this.batch.push({ message, resolve, reject });
      if (this.batch.length >= this.max) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.windowMs);
    });
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.batch;
    this.batch = [];
    if (batch.length === 0) return;
    const done = this.commit(batch).finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
  }

  private async commit(batch: Pending[]): Promise<void> {
    let stored: (StoredMessage | null)[];
    try {
      stored = await this.store.append(batch.map((pending) => pending.message));
    } catch (error) {
      this.log.error({ err: error }, 'storing a batch failed');
      for (const pending of batch) pending.reject(new PushwireError('unavailable', 'The message could not be stored; nothing was published. Retry.'));
      return;
    }
    stored.forEach((message, index) => {
      if (!message) return batch[index].reject(new PushwireError('queue_not_found'));
      this.touchedQueues.add(batch[index].message.queueId);
      this.bus.publishMessage(message);
      batch[index].resolve(message);
    });
  }

  /** Commits what is waiting and waits for every transaction in flight (graceful stop). */
  async drain(): Promise<void> {
    this.flush();
    await Promise.all(this.inFlight);
  }
}
