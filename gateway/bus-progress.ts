import { realClock, type Clock } from './clock.js';

/**
 * How far the bus has brought this gateway: the store time of the newest message it delivered,
 * and when the last one came. A store check that finds a socket behind asks it whether the
 * missing messages may still be on their way (under load the bus runs seconds behind the store)
 * or were dropped.
 */
export class BusProgress {
  private newestMicros = 0;
  private lastAt = -Infinity;

  constructor(
    /** The bus counts as flowing while its last message came less than this long ago. */
    private readonly flowingMs: number,
    private readonly clock: Clock = realClock,
  ) {}

  /** The bus brought a message stored at `micros` (the store's clock). */
  brought(micros: number): void {
    if (micros > this.newestMicros) this.newestMicros = micros;
    this.lastAt = this.clock.now();
  }

  /** Now, for a store check to remember when it read. */
  now(): number {
    return this.clock.now();
  }

  /**
   * Whether what was stored before `checkedAt` (a `now()`) may still be on the bus: it is
   * flowing, and has brought nothing stored at or after then. The store's clock and this one
   * may differ a little; that only moves when a repair starts, within the delivery's wait limit.
   */
  mayStillBring(checkedAt: number): boolean {
    return this.newestMicros < checkedAt * 1000 && this.clock.now() - this.lastAt < this.flowingMs;
  }
}
