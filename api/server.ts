import { Activity } from '../core/activity.js';
import type { Backends } from '../core/backends.js';
import type { Config } from '../core/config.js';
import type { Role } from '../core/daemon.js';
import { listen } from '../core/http.js';
import type { Logger } from '../core/log.js';
import { ProviderRegistry } from '../providers/registry.js';
import { buildApi } from './app.js';
import { Publisher } from './publisher.js';
import { QueueOwners } from './queue-owners.js';
import { startRetention } from './retention.js';

export async function startApi(config: Config, backends: Backends, log: Logger): Promise<Role & { url: string }> {
  const bus = backends.bus.publisher();
  const publisher = new Publisher(backends.store, bus,
    // More transactions than the store has connections would only queue inside it (embedded SQLite has one).
    { commitsInFlight: Math.min(config.commitsInFlight, backends.store.writers), max: config.groupCommitMax, parallelFrom: config.parallelCommitFrom }, log);
  const providers = new ProviderRegistry(config, backends.applications);
  const queues = new QueueOwners(backends.store, config.queueOwnerCache);
  const activity = new Activity(backends.store, Activity.periodFor(config.idleTokenTtlSeconds), log);
  const app = await buildApi({ config, ...backends, publisher, queues, providers, activity }, log);
  const stopRetention = startRetention(backends.store, publisher, { backlog: config.queueBacklog, everyMs: config.retentionSweepMs, idleTokenTtlSeconds: config.idleTokenTtlSeconds }, log);
  const url = await listen(app, config.host, config.apiPort, 'api', log, config.apiFd);
  return {
    url,
    close: async () => {
      stopRetention();
      await app.close();
      await publisher.drain();
      await activity.close();
      await providers.close();
      bus.close();
    },
  };
}
