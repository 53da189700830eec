/** Exponential backoff with full jitter: attempt n waits a uniform random time in [0, min(max, initial × 2ⁿ)). */
export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  /** A source of uniform randomness in [0, 1); tests pass their own. */
  random?: () => number;
}

export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;

  constructor({ initialMs = 500, maxMs = 30_000, random = Math.random }: BackoffOptions = {}) {
    this.initialMs = initialMs;
    this.maxMs = maxMs;
    this.random = random;
  }

  /** The wait before the next attempt; each call doubles the ceiling up to `maxMs`. */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.initialMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    return Math.floor(this.random() * ceiling);
  }

  /** A connection succeeded: start again from the smallest ceiling. */
  reset(): void {
    this.attempt = 0;
  }
}
