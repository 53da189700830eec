/**
 * The newest acknowledged sequence per user, gathered between flushes: a client acks every
 * ~100 ms, and presence needs only the latest of them, once per period.
 */
export class AckBuffer {
  private acks = new Map<number, number>();

  record(userId: number, seq: number): void {
    if (seq > (this.acks.get(userId) ?? 0)) this.acks.set(userId, seq);
  }

  /** Hands over what was gathered, one user at a time, and starts again. */
  async flush(write: (userId: number, seq: number) => Promise<void>): Promise<void> {
    const acks = this.acks;
    this.acks = new Map();
    for (const [userId, seq] of acks) await write(userId, seq);
  }
}
