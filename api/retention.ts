import type { Logger } from '../core/log.js';
import type { Store } from '../core/store/store.js';
import type { Publisher } from './publisher.js';

/** Users expired per sweep at most, so one sweep's transaction stays short. */
const EXPIRE_BATCH = 1000;

/**
 * Periodically removes expired messages, trims the queues that grew past their backlog, and
 * expires tokens idle past `idleTokenTtlSeconds` that hold nothing but their own queue.
 */
export function startRetention(store: Store, publisher: Publisher, { backlog, everyMs, idleTokenTtlSeconds }: { backlog: number; everyMs: number; idleTokenTtlSeconds: number }, log: Logger): () => void {
  let running = false;
  const sweep = async () => {
    if (running) return;
    running = true;
    const queues = [...publisher.touchedQueues];
    publisher.touchedQueues.clear();
    try {
      const removed = await store.prune(Date.now() * 1000, backlog, queues);
      if (removed) log.info({ removed }, 'retention sweep');
      const expired = await store.expireIdleUsers((Date.now() - idleTokenTtlSeconds * 1000) * 1000, EXPIRE_BATCH);
      if (expired) log.info({ expired }, 'idle tokens expired');
    } catch (error) {
      queues.forEach((queue) => publisher.touchedQueues.add(queue));
      log.error({ err: error }, 'retention sweep failed');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(sweep, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
