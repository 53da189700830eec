import Fastify, { type FastifyBaseLogger } from 'fastify';
import type { Backends } from '../core/backends.js';
import type { Config } from '../core/config.js';
import type { Role } from '../core/daemon.js';
import { listen, operationalRoutes, serverOptions } from '../core/http.js';
import { metrics } from '../core/metrics.js';
import type { Logger } from '../core/log.js';
import { ProviderRegistry } from '../providers/registry.js';
import { PushWorker } from './worker.js';

/** The push worker daemon: sends what the outbox holds; `/health` and `/status` for operators. */
export async function startPusher(config: Config, backends: Backends, log: Logger): Promise<Role & { url: string }> {
  const providers = new ProviderRegistry(config, backends.applications);
  await providers.vapid();
  const worker = new PushWorker(backends.outbox, backends.presence, providers, {
    publicUrl: config.publicUrl, pollMs: config.pushPollMs, batch: config.pushBatch, leaseMs: config.pushLeaseMs, maxBackoffMs: config.pushMaxBackoffMs,
    ackTimeoutMs: config.pushAckTimeoutMs,
  }, log);
  worker.start();
  const app = Fastify({ ...serverOptions(config), loggerInstance: log as FastifyBaseLogger });
  operationalRoutes(app, async () => {
    await backends.store.ping();
    return null;
  });
  app.get('/status', async () => ({ sent: worker.sent, outboxDepth: await backends.outbox.depth() }));
  const depth = setInterval(() => void backends.outbox.depth().then((n) => metrics.outboxDepth.set(n), () => {}), 5000);
  depth.unref();
  const url = await listen(app, config.host, config.pusherPort, 'pusher', log);
  return {
    url,
    close: async () => {
      clearInterval(depth);
      await app.close();
      await worker.stop();
      await providers.close();
    },
  };
}
