import Fastify, { type FastifyBaseLogger } from 'fastify';
import type { Backends } from '../core/backends.js';
import { BusSubscriber, busEndpoints } from '../core/bus.js';
import type { Config } from '../core/config.js';
import type { Role } from '../core/daemon.js';
import { listen, operationalRoutes } from '../core/http.js';
import type { Logger } from '../core/log.js';
import { GatewayWatcher } from './watcher.js';

export async function startMonitor(config: Config, { nodes, presence }: Backends, log: Logger): Promise<Role & { url: string }> {
  const bus = new BusSubscriber(busEndpoints(config.brokerHost, config.brokerInPort, config.brokerOutPort).out, log);
  const watcher = new GatewayWatcher(bus, nodes, presence, config.nodeTimeoutMs, log);
  await watcher.load();
  void bus.run((event) => {
    if (event.topic === 'heartbeat') void watcher.heartbeat(event.heartbeat);
  });

  const app = Fastify({ loggerInstance: log as FastifyBaseLogger });
  /** Every gateway the monitor knows, with its last heartbeat and whether it is overdue. */
  app.get('/status', async () => {
    const now = Date.now();
    return {
      bus: bus.connected ? 'connected' : 'disconnected',
      gateways: watcher.list().map((node) => ({ ...node, ageMs: now - node.lastSeen, state: now - node.lastSeen > config.heartbeatMs * 2 ? 'late' : 'up' })),
    };
  });
  operationalRoutes(app, async () => (bus.connected ? null : 'bus disconnected'));
  const url = await listen(app, config.host, config.monitorPort, 'monitor', log);
  return {
    url,
    close: async () => {
      watcher.close();
      await app.close();
      bus.close();
    },
  };
}
