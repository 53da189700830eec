import { realClock, type Clock } from './clock.js';

/**
 * Checks each user at each of `delaysMs` after its own subscription (not after the first of a
 * burst), with one timer for all of them. A bus subscription has to travel to the broker and on
 * to the publishers; under a burst of thousands that can take longer than the first check, and a
 * message the bus dropped meanwhile would otherwise wait for the user's next one.
 */
export class SettleSchedule {
  /** Users subscribed recently: since when, and how many of the checks they had. */
  private readonly unsettled = new Map<number, { since: number; checks: number }>();
  private timer: unknown = null;

  constructor(private readonly delaysMs: readonly number[], private readonly check: (userIds: number[]) => void, private readonly clock: Clock = realClock) {}

  /** These users (re)subscribed now: their checks start again. */
  add(userIds: readonly number[]): void {
    // No delays, no checks (as NaN deadlines, they were checks at every timer tick, forever).
    if (this.delaysMs.length === 0) return;
    const now = this.clock.now();
    for (const id of userIds) this.unsettled.set(id, { since: now, checks: 0 });
    this.arm();
  }

  close(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.unsettled.clear();
  }

  private arm(): void {
    if (this.timer !== null) return;
    let next = Infinity;
    for (const { since, checks } of this.unsettled.values()) next = Math.min(next, since + this.delaysMs[checks]);
    if (next === Infinity) return;
    this.timer = this.clock.setTimeout(() => this.due(), Math.max(0, next - this.clock.now()));
  }

  private due(): void {
    this.timer = null;
    const now = this.clock.now();
    const ids: number[] = [];
    for (const [id, entry] of this.unsettled) {
      if (entry.since + this.delaysMs[entry.checks] > now) continue;
      ids.push(id);
      if (++entry.checks === this.delaysMs.length) this.unsettled.delete(id);
    }
    if (ids.length) this.check(ids);
    this.arm();
  }
}
