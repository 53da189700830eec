import type { BusPublisher } from '../core/bus/bus.js';
import type { Logger } from '../core/log.js';
import { metrics } from '../core/metrics.js';
import { PushwireError } from '../core/errors.js';
import type { StoredMessage } from '../core/message.js';
import type { NewMessage, Store } from '../core/store/store.js';

interface Pending {
  message: NewMessage;
  resolve: (stored: StoredMessage) => void;
  reject: (error: unknown) => void;
}

/** PostgreSQL refused the values themselves (SQLSTATE class 22 data exception, 23 integrity), not the connection. */
function refusedData(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^2[23]/.test(code);
}

/**
 * Group commit without a timer: a publish commits at once while no transaction is running;
 * otherwise it waits for one to finish (and for the turn that delivers it) and then shares a
 * transaction (up to `max` messages) with everything that arrived meanwhile. Light load gets one
 * quick transaction per publish; heavy load gets batches as large as the store's latency makes
 * them, so many publishers to one user do not serialise one commit at a time on the user's row.
 * A batch costs the database less per message the larger it is, so a second transaction (up to
 * `commitsInFlight`) starts beside a running one only once `parallelFrom` publishes wait: then
 * waiting buys no amortisation, and the database's other cores can take it. A user with a
 * transaction in flight waits for it rather than queueing a second one on its row lock, so a hot
 * user's publishes gather into large batches. Each publish resolves only after its transaction
 * committed, then goes to the bus.
 */
export class Publisher {
  private batch: Pending[] = [];
  private scheduled: NodeJS.Immediate | null = null;
  private inFlight = new Set<Promise<void>>();
  /** Users with a transaction in flight. */
  private readonly busyUsers = new Set<number>();
  /** Queues that received messages since the last retention sweep. */
  readonly touchedQueues = new Set<number>();

  constructor(
    private readonly store: Store,
    private readonly bus: BusPublisher,
    private readonly options: { commitsInFlight: number; max: number; parallelFrom: number },
    private readonly log: Logger,
  ) {}

  publish(message: NewMessage): Promise<StoredMessage> {
    return new Promise((resolve, reject) => {
      this.batch.push({ message, resolve, reject });
      this.schedule();
    });
  }

  /** Flushes after the current turn of the event loop, so publishes that arrived together commit together. */
  private schedule(): void {
    if (this.batch.length === 0 || !this.mayStart()) return;
    this.scheduled ??= setImmediate(() => {
      this.scheduled = null;
      this.flush();
    });
  }

  /** The first transaction starts at once; others only for a batch that is already large. */
  private mayStart(): boolean {
    if (this.inFlight.size === 0) return true;
    return this.inFlight.size < this.options.commitsInFlight && this.batch.length >= this.options.parallelFrom;
  }

  private flush(): void {
    const batch: Pending[] = [];
    const waiting: Pending[] = [];
    for (const pending of this.batch) {
      if (batch.length < this.options.max && !this.busyUsers.has(pending.message.userId)) batch.push(pending);
      else waiting.push(pending);
    }
    this.batch = waiting;
    if (batch.length === 0) return;
    const users = new Set(batch.map((pending) => pending.message.userId));
    users.forEach((user) => this.busyUsers.add(user));
    const done = this.commit(batch).finally(() => {
      users.forEach((user) => this.busyUsers.delete(user));
      this.inFlight.delete(done);
      // What waits commits one turn of the event loop later, not in this one: this turn delivers
      // the batch just committed (a write to every socket of its users), and what arrives
      // meanwhile then shares the next commit, so each commit, like each of uWS's own turns,
      // carries one turn's publishes (half as many writes per delivery in a broadcast).
      setImmediate(() => this.schedule());
    });
    this.inFlight.add(done);
    this.schedule();
  }

  private async commit(batch: Pending[]): Promise<void> {
    let stored: (StoredMessage | null)[];
    try {
      stored = await this.store.append(batch.map((pending) => pending.message));
    } catch (error) {
      if (refusedData(error)) return this.isolate(batch, error);
      this.log.error({ err: error }, 'storing a batch failed');
      for (const pending of batch) pending.reject(new PushwireError('unavailable', 'The message could not be stored; nothing was published. Retry.'));
      return;
    }
    stored.forEach((message, index) => {
      if (!message) return batch[index].reject(new PushwireError('queue_not_found'));
      this.touchedQueues.add(batch[index].message.queueId);
      metrics.published.inc({ kind: message.kind });
      this.bus.publishMessage(message);
      batch[index].resolve(message);
    });
  }

  /**
   * The store refused something in the batch (the statement is atomic, so nothing was stored):
   * halves are retried until the refused message stands alone and fails alone, so one bad
   * publish never fails the publishes that shared its transaction. The edge validates what the
   * store refuses; this is the backstop for whatever it missed.
   */
  private async isolate(batch: Pending[], error: unknown): Promise<void> {
    if (batch.length === 1) {
      this.log.warn({ err: error }, 'the store refused a message');
      batch[0].reject(new PushwireError('invalid_field', `The store refused this message: ${(error as Error).message}`));
      return;
    }
    const half = Math.ceil(batch.length / 2);
    await this.commit(batch.slice(0, half));
    await this.commit(batch.slice(half));
  }

  /** Commits what is waiting and waits for every transaction in flight (graceful stop). */
  async drain(): Promise<void> {
    while (this.batch.length > 0 || this.inFlight.size > 0) {
      this.flush();
      await Promise.race(this.inFlight);
    }
  }
}
