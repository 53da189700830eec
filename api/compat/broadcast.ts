import { randomId } from '../../core/ids.js';
import type { ApplicationStore } from '../../core/store/applications.js';
import type { Queue, Store, User } from '../../core/store/store.js';

/**
 * The broadcast audience is an ordinary user that nobody holds the token of: anonymous Web Push
 * subscriptions are its devices and a broadcast is a message on its queue, so broadcasts get
 * the same durable outbox, retries and dead-endpoint handling as every other push.
 */
export class BroadcastAudience {
  private cached: Promise<{ user: User; queue: Queue }> | null = null;

  constructor(private readonly store: Store, private readonly applications: ApplicationStore) {}

  get(): Promise<{ user: User; queue: Queue }> {
    this.cached ??= this.load().catch((error: unknown) => {
      this.cached = null;
      throw error;
    });
    return this.cached;
  }

  private async load(): Promise<{ user: User; queue: Queue }> {
    const { token, queue } = await this.applications.setting('broadcast-user', () => ({ token: randomId(), queue: randomId() }));
    const existing = await this.store.userByToken(token);
    if (existing) return { user: existing, queue: (await this.store.queueByName(queue))! };
    try {
      return await this.store.createUser(token, queue);
    } catch {
      // Another api process created it first.
      const user = (await this.store.userByToken(token))!;
      return { user, queue: (await this.store.queueByName(queue))! };
    }
  }
}
