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

  constructor(
    private readonly store: Store,
    readonly periodMs: number,
    private readonly log: Logger,
    /**
     * Users active for as long as they stay (a gateway's connected users), recorded at every
     * flush: asked then rather than added each period, since the set would otherwise hold every
     * connected user all the time (~33 bytes each).
     */
    private readonly stillActive: () => Iterable<number> = () => [],
  ) {
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
    const seen = this.pending;
    this.pending = new Set();
    for (const user of this.stillActive()) seen.add(user);
    if (seen.size === 0) return;
    const users = [...seen];
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
