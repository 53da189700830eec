import type { BusPublisher } from '../core/bus/bus.js';
import type { Logger } from '../core/log.js';
import { metrics } from '../core/metrics.js';
import { PushwireError } from '../core/errors.js';
import type { MessageKind, StoredMessage } from '../core/message.js';
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

type Outcome = StoredMessage | PushwireError;

/**
 * Group commit without a timer: a publish commits at once while no transaction is running;
 * otherwise it waits for one to finish and then shares a transaction (up to `max` messages) with
 * everything that arrived meanwhile. Light load gets one quick transaction per publish; heavy load
 * gets batches as large as the store's latency makes them, so many publishers to one user do not
 * serialise one commit at a time on the user's row. A batch costs the database less per message
 * the larger it is, so a second transaction (up to `commitsInFlight`) starts beside a running one
 * only once `parallelFrom` publishes wait: then waiting buys no amortisation, and the database's
 * other cores can take it.
 *
 * When a transaction returns, the next one starts before its batch is delivered, so the database
 * stores the next batch while this process writes the last one to sockets and publishers (the two
 * overlap instead of taking turns). A user stays busy from its transaction until the event-loop
 * turn after its batch was delivered: its later publishes wait for that turn rather than queueing a
 * second transaction on its row lock, so a hot user's publishes gather into large batches, and
 * each of its commits carries a whole turn's publishes, as each of uWS's own turns does (half as
 * many writes per delivery in a broadcast). Each publish resolves only after its transaction
 * committed, then goes to the bus, in each user's order.
 */
export class Publisher {
  private batch: Pending[] = [];
  private scheduled: NodeJS.Immediate | null = null;
  /** Transactions running in the database. */
  private transactions = 0;
  /** Batches from their transaction's start until their users are free again. */
  private inFlight = new Set<Promise<void>>();
  /** Users with a batch in flight. */
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
    if (this.transactions === 0) return true;
    return this.transactions < this.options.commitsInFlight && this.batch.length >= this.options.parallelFrom;
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
    this.transactions += 1;
    const done = this.commit(batch)
      .then((outcomes) => {
        this.transactions -= 1;
        if (this.mayStart()) this.flush();
        this.settle(batch, outcomes);
        return new Promise<void>((resolve) => setImmediate(resolve));
      })
      .finally(() => {
        users.forEach((user) => this.busyUsers.delete(user));
        this.inFlight.delete(done);
        this.schedule();
      });
    this.inFlight.add(done);
    this.schedule();
  }

  /** Stores a batch; never throws: each publish gets its stored message or its error. */
  private async commit(batch: Pending[]): Promise<Outcome[]> {
    let stored: (StoredMessage | null)[];
    try {
      stored = await this.store.append(batch.map((pending) => pending.message));
    } catch (error) {
      if (refusedData(error)) return this.isolate(batch, error);
      this.log.error({ err: error }, 'storing a batch failed');
      return batch.map(() => new PushwireError('unavailable', 'The message could not be stored; nothing was published. Retry.'));
    }
    return stored.map((message) => message ?? new PushwireError('queue_not_found'));
  }

  /** Publishes what was stored, in batch order, and answers every publish of the batch. */
  private settle(batch: Pending[], outcomes: Outcome[]): void {
    // Counted once a batch per kind: a labelled counter hashes its labels on every call.
    const published = new Map<MessageKind, number>();
    outcomes.forEach((outcome, index) => {
      if (outcome instanceof PushwireError) return batch[index].reject(outcome);
      this.touchedQueues.add(batch[index].message.queueId);
      published.set(outcome.kind, (published.get(outcome.kind) ?? 0) + 1);
      this.bus.publishMessage(outcome);
      batch[index].resolve(outcome);
    });
    published.forEach((count, kind) => metrics.published.inc({ kind }, count));
  }

  /**
   * The store refused something in the batch (the statement is atomic, so nothing was stored):
   * halves are retried until the refused message stands alone and fails alone, so one bad
   * publish never fails the publishes that shared its transaction. The edge validates what the
   * store refuses; this is the backstop for whatever it missed.
   */
  private async isolate(batch: Pending[], error: unknown): Promise<Outcome[]> {
    if (batch.length === 1) {
      this.log.warn({ err: error }, 'the store refused a message');
      return [new PushwireError('invalid_field', `The store refused this message: ${(error as Error).message}`)];
    }
    const half = Math.ceil(batch.length / 2);
    return [...await this.commit(batch.slice(0, half)), ...await this.commit(batch.slice(half))];
  }

  /** Commits what is waiting and waits for every batch in flight (graceful stop). */
  async drain(): Promise<void> {
    while (this.batch.length > 0 || this.inFlight.size > 0) {
      this.flush();
      await Promise.race(this.inFlight);
    }
  }
}
