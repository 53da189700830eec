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
    const { token } = await this.applications.setting('broadcast-user', () => ({ token: randomId() }));
    return userWithToken(this.store, token);
  }
}

/** The user holding `token` and their own queue, created when new (the first api process to try wins). */
export async function userWithToken(store: Store, token: string): Promise<{ user: User; queue: Queue }> {
  let user = await store.userByToken(token);
  if (!user) {
    try {
      return await store.createUser(token, randomId());
    } catch {
      user = (await store.userByToken(token))!;
    }
  }
  return { user, queue: (await store.queuesOf(user.id)).find((queue) => queue.domain === null)! };
}
