import Fastify, { type FastifyBaseLogger } from 'fastify';
import { readBrokerKeys } from '../core/bus/curve.js';
import { busEndpoints } from '../core/bus/zeromq.js';
import { runDaemon } from '../core/daemon.js';
import { listen, operationalRoutes, serverOptions } from '../core/http.js';
import { startBroker } from './proxy.js';

await runDaemon('broker', async (config, _backends, log) => {
  if (config.busSecurity === 'plain') log.warn({ host: config.brokerHost }, 'PUSHWIRE_BUS_SECURITY=plain: the bus admits anyone who reaches its ports, unencrypted');
  const keys = config.busSecurity === 'curve' ? readBrokerKeys(config.busKeysDir) : null;
  const broker = await startBroker(busEndpoints(config.brokerHost, config.brokerInPort, config.brokerOutPort), log, keys);
  const http = Fastify({ ...serverOptions(config), loggerInstance: log as FastifyBaseLogger });
  operationalRoutes(http, async () => null);
  await listen(http, config.host, config.brokerHttpPort, 'broker http', log);
  return {
    close: async () => {
      await http.close();
      await broker.close();
    },
  };
}, { needsBackends: false });
