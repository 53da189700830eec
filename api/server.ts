import type { Backends } from '../core/backends.js';
import { BusPublisher, busEndpoints } from '../core/bus.js';
import type { Config } from '../core/config.js';
import type { Role } from '../core/daemon.js';
import type { Logger } from '../core/log.js';
import { buildApi } from './app.js';
import { Publisher } from './publisher.js';
import { startRetention } from './retention.js';

export async function startApi(config: Config, backends: Backends, log: Logger): Promise<Role & { url: string }> {
  const bus = new BusPublisher(busEndpoints(config.brokerHost, config.brokerInPort, config.brokerOutPort).in, log);
  const publisher = new Publisher(backends.store, bus, backends.presence,
    { windowMs: config.groupCommitMs, max: config.groupCommitMax, pushAckTimeoutMs: config.pushAckTimeoutMs }, log);
  const app = await buildApi({ config, ...backends, publisher }, log);
  const stopRetention = startRetention(backends.store, publisher, config.queueBacklog, config.retentionSweepMs, log);
  await app.listen({ host: config.host, port: config.apiPort });
  const address = app.server.address();
  const url = `http://${config.host}:${typeof address === 'object' && address ? address.port : config.apiPort}`;
  log.info({ url }, 'api listening');
  return {
    url,
    close: async () => {
      stopRetention();
      await app.close();
      await publisher.drain();
      bus.close();
    },
  };
}
