import { realClock, type Clock } from './clock.js';

/**
 * Runs `run` once, `ms` after the first `arm()` since it last ran: what was gathered meanwhile is
 * handled together, and an idle gateway has no timer waking it (a period of 50 ms was 20 wake-ups
 * a second with nothing to do).
 */
export class ArmedTimer {
  private timer: unknown = null;

  constructor(
    private readonly ms: number,
    private readonly run: () => void,
    private readonly clock: Clock = realClock,
  ) {}

  arm(): void {
    this.timer ??= this.clock.setTimeout(() => {
      this.timer = null;
      this.run();
    }, this.ms);
  }

  stop(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }
}
