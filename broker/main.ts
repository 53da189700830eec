import Fastify, { type FastifyBaseLogger } from 'fastify';
import { busEndpoints } from '../core/bus/zeromq.js';
import { runDaemon } from '../core/daemon.js';
import { listen, operationalRoutes } from '../core/http.js';
import { startBroker } from './proxy.js';

await runDaemon('broker', async (config, _backends, log) => {
  const broker = await startBroker(busEndpoints(config.brokerHost, config.brokerInPort, config.brokerOutPort), log);
  const http = Fastify({ loggerInstance: log as FastifyBaseLogger });
  operationalRoutes(http, async () => null);
  await listen(http, config.host, config.brokerHttpPort, 'broker http', log);
  return {
    close: async () => {
      await http.close();
      await broker.close();
    },
  };
}, { needsBackends: false });
