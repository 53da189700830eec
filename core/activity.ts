import type { Logger } from './log.js';
import type { Store } from './store/store.js';

/**
 * Who was active lately (a websocket, a request with their token), written to the store in one
 * statement per period instead of one per request: what keeps a user's token from expiring as
 * idle (PUSHWIRE_IDLE_TOKEN_TTL). A period is at most a quarter of that TTL, so a user seen is
 * recorded long before it could expire.
 */
export class Activity {
  private pending = new Set<number>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly store: Store, readonly periodMs: number, private readonly log: Logger) {
    this.timer = setInterval(() => void this.flush(), periodMs);
    this.timer.unref();
  }

  /** The period for an idle-token TTL: a minute, or a quarter of the TTL when that is shorter. */
  static periodFor(idleTtlSeconds: number): number {
    return Math.min(60_000, (idleTtlSeconds * 1000) / 4);
  }

  seen(userId: number): void {
    this.pending.add(userId);
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const users = [...this.pending];
    this.pending = new Set();
    await this.store.touchUsers(users, Date.now() * 1000).catch((error: unknown) => {
      users.forEach((user) => this.pending.add(user));
      this.log.warn({ err: error }, 'recording activity failed; retried next period');
    });
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
