import type { Logger } from '../core/log.js';
import type { Store } from '../core/store/store.js';
import type { Publisher } from './publisher.js';

/** Periodically removes expired messages and trims the queues that grew past their backlog. */
export function startRetention(store: Store, publisher: Publisher, backlog: number, everyMs: number, log: Logger): () => void {
  let running = false;
  const sweep = async () => {
    if (running) return;
    running = true;
    const queues = [...publisher.touchedQueues];
    publisher.touchedQueues.clear();
    try {
      const removed = await store.prune(Date.now() * 1000, backlog, queues);
      if (removed) log.info({ removed }, 'retention sweep');
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
