/** Commit → delivery latencies since the last heartbeat, for its p99; bounded, so a burst costs no more than this many samples. */
export class LatencyWindow {
  private samples: number[] = [];

  constructor(private readonly maxSamples = 20_000) {}

  add(ms: number): void {
    if (this.samples.length < this.maxSamples) this.samples.push(ms);
  }

  /** p99 of the samples since the last call (to 0.01 ms), null without any; then starts a new window. */
  takeP99(): number | null {
    const sorted = this.samples.sort((a, b) => a - b);
    this.samples = [];
    return sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] * 100) / 100 : null;
  }
}
