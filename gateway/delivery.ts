import { encodeKey, type Since } from '../core/ids.js';
import type { StoredMessage } from '../core/message.js';
import { framesDelivered, metrics } from '../core/metrics.js';
import { collapseKeyOf, type FramePage, type FrameReadRequest } from '../core/store/frame-page.js';
import type { RangeRequest } from '../core/store/store.js';
import { CloseCode, type ControlFrame, type Dialect } from '../sdk/wire.js';
import { realClock, type Clock } from './clock.js';
import { originalFrames, pushwireFrames, type FrameFormat } from './frames.js';
import type { Sink } from './sink.js';

/** What a delivery reads from the store: its catch-up pages and the ranges it repairs. */
export interface History {
  /** A catch-up page, as the frames of the request's dialect. */
  readFrames(request: FrameReadRequest): Promise<FramePage>;
  range(request: RangeRequest): Promise<StoredMessage[]>;
}

export interface DeliveryOptions {
  publicUrl: string;
  /** Buffered bytes past which frames wait in our own (collapsing) queue. */
  softBackpressureBytes: number;
  /** Waiting frames past which the socket is closed as a slow consumer. */
  maxPending: number;
  /** Rows per store read when repairing a gap. */
  fillBatch: number;
  /**
   * When a store check finds the socket behind, how long to give the bus before reading the
   * store: what was committed a moment ago is usually on its way, and reading it would be a store
   * read per in-flight message at every check. 0: repair at once.
   */
  verifyGraceMs: number;
  onError(error: unknown): void;
}

/**
 * What every delivery of a dialect on a gateway shares: one object, so a delivery holds one field
 * for it rather than four (an idle connection's delivery is most of what it keeps).
 */
export interface DeliveryContext {
  history: History;
  options: DeliveryOptions;
  /** The sinks' dialect writes their frames. */
  frames: FrameFormat;
  clock: Clock;
}

/** The deliveries' shared context for each dialect. */
export function deliveryContexts(history: History, options: DeliveryOptions, clock: Clock = realClock): Record<Dialect, DeliveryContext> {
  return {
    pushwire: { history, options, clock, frames: pushwireFrames },
    original: { history, options, clock, frames: originalFrames },
  };
}

interface Outgoing {
  frame: string;
  /** queue + kind + replaceId: a newer frame with the same key replaces this one while it waits. */
  collapseKey: string | null;
}

/**
 * `syncing`: reading a catch-up page; `paging`: waiting for the client's next fetch; `live`:
 * sending from the bus; `repairing`: live, reading a gap from the store; `ended`: for good.
 */
type Phase = 'syncing' | 'paging' | 'live' | 'repairing' | 'ended';

/**
 * Asked when a store check's grace is over and the socket is still behind: true while what was
 * stored before the check may still be on its way over the bus (the bus is bringing messages,
 * and none yet stored after the check). Under load the bus runs seconds behind the store, and a
 * read then would fetch what the bus brings anyway, for every user at every check.
 */
export type StillOnTheBus = () => boolean;

const NOT_ON_THE_BUS: StillOnTheBus = () => false;

/**
 * What a delivery holds or queues while it has nothing: shared, since most deliveries (an idle
 * socket's) never hold or queue anything, and two empty arrays each were ~64 bytes of every
 * connection (`bench:memory --users each`). A delivery takes arrays of its own to add to.
 */
const NONE: readonly never[] = Object.freeze([]);

/** A store check's wait for the bus: its timer, and the latest check's question for the bus, asked when the grace is over. */
interface BusWait {
  timer: unknown;
  stillOnTheBus: StillOnTheBus;
}

/** How long a store check waits at most for a bus that keeps saying the messages are on their way. */
const BUS_WAIT_LIMIT_MS = 5000;

/**
 * Delivery of one user's messages to one sink (a socket, or a group's topic), exactly once and
 * in sequence order.
 *
 * Invariant: every message of the user with seq <= `sentSeq` has been sent to the sink,
 * or collapsed away by a newer one, or does not exist. Live bus messages arrive in any order
 * and may be missing; a message with seq > sentSeq + 1 means the bus dropped something, so
 * the gap is read from the store before going on. While catch-up or a repair reads the
 * store, live messages are held and replayed afterwards, skipping what was already sent.
 */
export class Delivery<S extends Sink = Sink> {
  /** Every message of the user with seq <= sentSeq has been sent (see the class invariant). */
  sentSeq = 0;
  private phase: Phase = 'syncing';
  private held: readonly StoredMessage[] = NONE;
  /** Highest seq known to exist (from the bus or a store check), even if its message was not held. */
  private maxSeen = 0;
  private pending: readonly Outgoing[] = NONE;
  /** Set while a store check found this behind and the bus has its grace to bring what is missing. */
  private busWait: BusWait | null = null;
  /** Set while live messages wait, out of order, for the ones the bus has not brought yet. */
  private gapTimer: unknown = null;

  constructor(
    readonly userId: number,
    protected readonly sink: S,
    private readonly context: DeliveryContext,
  ) {}

  /** The sink's dialect's frames. */
  get frames(): FrameFormat {
    return this.context.frames;
  }

  private get options(): DeliveryOptions {
    return this.context.options;
  }

  private get clock(): Clock {
    return this.context.clock;
  }

  /**
   * Starts delivery. The caller has subscribed this user on the bus and then read
   * `storedLastSeq`, so nothing committed afterwards can be missed. Without `since` only new
   * messages are sent; with it, a first catch-up page.
   */
  async start(storedLastSeq: number, since: Since | undefined, limit: number): Promise<void> {
    this.maxSeen = Math.max(this.maxSeen, storedLastSeq);
    if (since === undefined) {
      this.sentSeq = storedLastSeq;
      return this.goLive();
    }
    return this.catchUp(since, limit, storedLastSeq);
  }

  /** The next catch-up page, after `more: true`. */
  async fetch(since: Since, limit: number): Promise<void> {
    return this.catchUp(since, limit, 0);
  }

  get paging(): boolean {
    return this.phase === 'paging';
  }

  /** Live, nothing held, waiting or being read: fit to be a group's delivery, or to join one. */
  get inSync(): boolean {
    return this.phase === 'live' && this.held.length === 0 && this.pending.length === 0;
  }

  get closed(): boolean {
    return this.phase === 'ended';
  }

  /** The sink's buffer is past the soft backpressure limit. */
  get behind(): boolean {
    return this.sink.bufferedAmount() >= this.options.softBackpressureBytes;
  }

  /**
   * Delivering on its own again (after a group) from `seq`, the position the group reached;
   * what the group knew exists beyond it (held out of order, say) is repaired from the store.
   */
  resumeAt(seq: number, highestSeen: number): void {
    this.sentSeq = seq;
    this.verify(highestSeen);
  }

  get highestSeen(): number {
    return this.maxSeen;
  }

  private async catchUp(since: Since, limit: number, storedLastSeq: number): Promise<void> {
    if (this.closed) return;
    this.phase = 'syncing';
    let page: FramePage;
    try {
      page = await this.context.history.readFrames({
        userId: this.userId, since, limit, collapse: true, dialect: this.frames.dialect, publicUrl: this.options.publicUrl,
      });
    } catch (error) {
      return this.fail(error);
    }
    if (this.closed) return;
    const { frames, collapseKeys } = page;
    const last = page.seqs.at(-1);
    // The page and its summary in one write to the socket (one syscall, not two, per catch-up).
    this.sink.batch(() => {
      for (let index = 0; index < frames.length; index++) this.enqueue(frames[index], collapseKeys?.[index] ?? null);
      this.sendControl({
        type: 'catchup', count: frames.length, more: page.more, truncated: page.truncated,
        last: last === undefined ? null : encodeKey(this.userId, last),
      });
    });
    metrics.catchupSize.observe(frames.length);
    framesDelivered.catchup += frames.length * this.sink.receivers;
    if (page.more) this.sentSeq = last!;
    // Everything up to the newest row read, or up to what was stored before the read, is now covered.
    else this.sentSeq = Math.max(last ?? 0, storedLastSeq, this.sentSeq);
    if (page.more && !this.frames.clientPages) return this.catchUp({ seq: last! }, limit, storedLastSeq);
    if (page.more) {
      this.phase = 'paging';
      this.held = NONE;
      return;
    }
    return this.goLive();
  }

  private goLive(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.phase = 'live';
    return this.replayHeld();
  }

  /** A message from the bus. */
  offer(message: StoredMessage): void {
    if (this.closed) return;
    this.maxSeen = Math.max(this.maxSeen, message.seq);
    if (this.phase !== 'live') {
      // Held messages are also in the store; past the limit, forget them and repair from maxSeen.
      if (this.phase !== 'paging' && this.held.length < this.options.maxPending) this.ownHeld().push(message);
      return;
    }
    if (message.seq <= this.sentSeq) return;
    if (message.seq === this.sentSeq + 1) {
      this.sendMessage(message, 'live');
      this.sentSeq = message.seq;
      if (this.held.length > 0) this.sendHeldInSequence();
      return;
    }
    this.ownHeld().push(message);
    this.awaitGap();
  }

  /**
   * A later message came first. Publishes of one user from two api processes cross on the bus,
   * and the missing ones then arrive a moment later: wait `verifyGraceMs` for them rather than
   * read the store at once (for a hot user's sockets out of their group, a read per socket per
   * crossing). What is still missing then is read from the store.
   */
  private awaitGap(): void {
    if (this.options.verifyGraceMs === 0 || this.held.length >= this.options.maxPending) return this.repairGap();
    this.gapTimer ??= this.clock.setTimeout(() => this.repairGap(), this.options.verifyGraceMs);
  }

  private repairGap(): void {
    this.clearGapTimer();
    if (this.held.length === 0 || this.phase !== 'live') return;
    metrics.gapRepairs.inc();
    void this.repair(Math.min(...this.held.map((message) => message.seq)) - 1);
  }

  /** Sends the held messages that are now next in sequence; the rest keep waiting for the gap. */
  private sendHeldInSequence(): void {
    const held = this.ownHeld().sort((a, b) => a.seq - b.seq);
    let taken = 0;
    while (taken < held.length && held[taken].seq <= this.sentSeq + 1) {
      const message = held[taken++];
      if (message.seq <= this.sentSeq) continue;
      this.sendMessage(message, 'live');
      this.sentSeq = message.seq;
    }
    held.splice(0, taken);
    if (held.length > 0) return;
    this.held = NONE;
    this.clearGapTimer();
  }

  /** The held messages as an array of this delivery's own, to change. */
  private ownHeld(): StoredMessage[] {
    if (this.held === NONE) this.held = [];
    return this.held as StoredMessage[];
  }

  /** The queued frames as an array of this delivery's own, to change. */
  private ownPending(): Outgoing[] {
    if (this.pending === NONE) this.pending = [];
    return this.pending as Outgoing[];
  }

  private clearGapTimer(): void {
    if (this.gapTimer !== null) this.clock.clearTimeout(this.gapTimer);
    this.gapTimer = null;
  }

  /**
   * The store says the user's sequence reached `storedLastSeq`: if we are behind, and still are
   * once the bus has had `verifyGraceMs` to bring it (and longer while `stillOnTheBus`, up to
   * `BUS_WAIT_LIMIT_MS`), repair from the store.
   */
  verify(storedLastSeq: number, stillOnTheBus: StillOnTheBus = NOT_ON_THE_BUS): void {
    this.maxSeen = Math.max(this.maxSeen, storedLastSeq);
    if (!this.behindStore()) return;
    if (this.options.verifyGraceMs === 0) return void this.repair(this.maxSeen);
    if (this.busWait) this.busWait.stillOnTheBus = stillOnTheBus;
    else this.busWait = { timer: this.awaitBus(this.clock.now()), stillOnTheBus };
  }

  /** The timer of a wait for the bus that began at `since`. */
  private awaitBus(since: number): unknown {
    return this.clock.setTimeout(() => {
      const wait = this.busWait!;
      if (this.behindStore() && wait.stillOnTheBus() && this.clock.now() - since < BUS_WAIT_LIMIT_MS) {
        wait.timer = this.awaitBus(since);
        return;
      }
      this.busWait = null;
      if (this.behindStore()) void this.repair(this.maxSeen);
    }, this.options.verifyGraceMs);
  }

  private behindStore(): boolean {
    return this.phase === 'live' && this.maxSeen > this.sentSeq;
  }

  /** Sends everything in (sentSeq, target] from the store, then what was held meanwhile. */
  private async repair(target: number): Promise<void> {
    if (this.phase !== 'live') return;
    this.phase = 'repairing';
    try {
      while (this.sentSeq < target && this.phase === 'repairing') {
        const rows = await this.context.history.range({ userId: this.userId, afterSeq: this.sentSeq, uptoSeq: target, max: this.options.fillBatch });
        if (this.closed) return;
        this.sink.batch(() => {
          for (const row of rows) {
            if (row.seq <= this.sentSeq) continue;
            this.sendMessage(row, 'repair');
            this.sentSeq = row.seq;
          }
        });
        // Fewer rows than asked for: the rest of the range was deleted with its queue.
        if (rows.length < this.options.fillBatch) this.sentSeq = Math.max(this.sentSeq, target);
      }
    } catch (error) {
      return this.fail(error);
    } finally {
      if (this.phase === 'repairing') this.phase = 'live';
    }
    return this.replayHeld();
  }

  private async replayHeld(): Promise<void> {
    const held = this.held.length > 0 ? this.ownHeld().sort((a, b) => a.seq - b.seq) : NONE;
    this.held = NONE;
    for (const message of held) this.offer(message);
    if (this.phase === 'live' && this.maxSeen > this.sentSeq) await this.repair(this.maxSeen);
  }

  sendMessage(message: StoredMessage, path: 'live' | 'catchup' | 'repair'): void {
    framesDelivered[path] += this.sink.receivers;
    // Only a live message is shared by several sockets; one read from the store is this socket's own.
    this.enqueue(this.frames.message(message, this.options.publicUrl, path === 'live'), collapseKeyOf(message));
  }

  sendControl(frame: ControlFrame): void {
    const text = this.frames.control(frame);
    if (text !== null) this.enqueue(text, null);
  }

  /**
   * Sends `frame`, or queues it while the socket is behind. `collapseKey`: what a newer frame
   * replaces it under while it waits (null: a control frame, a message without a replaceId).
   */
  private enqueue(frame: string, collapseKey: string | null): void {
    if (this.closed) return;
    if (this.pending.length === 0 && !this.behind) {
      this.sink.send(frame);
      return;
    }
    const outgoing: Outgoing = { frame, collapseKey };
    if (outgoing.collapseKey !== null) {
      const older = this.pending.findIndex((waiting) => waiting.collapseKey === outgoing.collapseKey);
      if (older >= 0) {
        this.ownPending().splice(older, 1);
        metrics.collapsed.inc();
      }
    }
    this.ownPending().push(outgoing);
    if (this.pending.length > this.options.maxPending) {
      metrics.dropped.inc({ reason: 'slow_consumer' });
      this.close(CloseCode.slowConsumer, 'slow consumer');
    }
  }

  /** The socket drained some of its buffer: send what waits, while it stays under the soft limit. */
  drain(): void {
    while (!this.closed && this.pending.length && !this.behind) {
      this.sink.send(this.ownPending().shift()!.frame);
    }
    if (this.pending.length === 0) this.pending = NONE;
  }

  get waiting(): number {
    return this.pending.length;
  }

  private fail(error: unknown): void {
    metrics.dropped.inc({ reason: 'store_failure' });
    this.options.onError(error);
    this.close(CloseCode.internal, 'store unavailable, reconnect');
  }

  /** Ends the delivery and its sink. */
  close(code: number, reason: string): void {
    if (this.closed) return;
    this.stop();
    this.sink.close(code, reason);
  }

  /** Ends the delivery, and leaves its sink as it is: the socket closed already, or the group has no members left. */
  stop(): void {
    this.phase = 'ended';
    if (this.busWait) this.clock.clearTimeout(this.busWait.timer);
    this.busWait = null;
    this.clearGapTimer();
  }
}
