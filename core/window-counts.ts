import type { Redis } from 'ioredis';
import type { Logger } from './log.js';

const WINDOW_MS = 60_000;
const SYNC_MS = 1_000;

/** Where a deployment's shared counters live: Redis, under the deployment's key prefix. */
export interface SharedCounters {
  redis: Redis;
  prefix: string;
}

const windowNow = () => Math.floor(Date.now() / WINDOW_MS);

/**
 * Counts per key in one-minute windows aligned to the clock, for the limits on hot paths (a
 * publish per queue, a websocket per address), where a Redis round trip per event would cost
 * more than the event. Alone, each process counts for itself. With Redis, each process adds what
 * it counted to shared counters once a second, in one pipeline for every key counted since, and
 * reads back the totals of the keys it counted or asked about; it then decides on the
 * deployment's count as of the last second plus its own since. Nothing waits on Redis: a
 * deployment can overshoot a limit by what its other processes admit within a second, and when
 * Redis fails, each process goes on with what it knows (counting must never fail the requests it
 * counts).
 */
export class WindowCounts {
  private window = windowNow();
  /** The deployment's totals as of the last sync (this process's synced counts included). */
  private shared = new Map<string, number>();
  /** Counted here since the last sync. */
  private unsynced = new Map<string, number>();
  /** Asked about since the last sync without being counted: their totals are read back. */
  private asked = new Set<string>();
  private syncing = false;
  private failing = false;
  private readonly timer: NodeJS.Timeout | null = null;

  constructor(private readonly name: string, private readonly counters: SharedCounters | null, private readonly log: Logger) {
    if (!counters) return;
    this.timer = setInterval(() => void this.sync(), SYNC_MS);
    this.timer.unref();
  }

  /** Counts one more for `key`; the count after it. */
  add(key: string): number {
    this.roll();
    const mine = (this.unsynced.get(key) ?? 0) + 1;
    this.unsynced.set(key, mine);
    return (this.shared.get(key) ?? 0) + mine;
  }

  get(key: string): number {
    this.roll();
    if (this.counters) this.asked.add(key);
    return (this.shared.get(key) ?? 0) + (this.unsynced.get(key) ?? 0);
  }

  /** Seconds until this window ends and its counts start again from zero. */
  get secondsLeft(): number {
    return Math.max(1, Math.ceil(((this.window + 1) * WINDOW_MS - Date.now()) / 1000));
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private roll(): void {
    const window = windowNow();
    if (window === this.window) return;
    this.window = window;
    this.shared = new Map();
    this.unsynced = new Map();
    this.asked = new Set();
  }

  private async sync(): Promise<void> {
    this.roll();
    if (!this.counters || this.syncing || (this.unsynced.size === 0 && this.asked.size === 0)) return;
    const { window } = this;
    const counted = this.unsynced;
    const asked = [...this.asked].filter((key) => !counted.has(key));
    this.unsynced = new Map();
    this.asked = new Set();
    const keyOf = (key: string) => `${this.counters!.prefix}wc:${this.name}:${window}:${key}`;
    const pipeline = this.counters.redis.pipeline();
    for (const [key, count] of counted) pipeline.incrby(keyOf(key), count).pexpire(keyOf(key), 2 * WINDOW_MS);
    for (const key of asked) pipeline.get(keyOf(key));
    this.syncing = true;
    let results: [Error | null, unknown][];
    try {
      results = (await pipeline.exec()) ?? [];
    } catch (error) {
      results = [[error as Error, null]];
    } finally {
      this.syncing = false;
    }
    if (window !== this.window) return;
    const reply = (index: number): [Error | null, unknown] => results[index] ?? [results[0]?.[0] ?? new Error('no reply from Redis'), null];
    let failure: Error | null = null;
    let index = 0;
    for (const [key, count] of counted) {
      const [error, total] = reply(index);
      index += 2;
      failure ??= error;
      // Not shared this time: kept as this process's own, so its limit still holds here.
      this.shared.set(key, error ? (this.shared.get(key) ?? 0) + count : Number(total));
    }
    for (const key of asked) {
      const [error, total] = reply(index++);
      failure ??= error;
      if (!error) this.shared.set(key, Math.max(this.shared.get(key) ?? 0, Number(total ?? 0)));
    }
    if (failure && !this.failing) this.log.warn({ err: failure, counts: this.name }, 'could not share rate-limit counts through Redis; counting in this process until it answers');
    this.failing = failure !== null;
  }
}
