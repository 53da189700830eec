import { startApi } from '../api/server.js';
import { startBroker } from '../broker/proxy.js';
import { busEndpoints } from '../core/bus.js';
import { runDaemon } from '../core/daemon.js';
import { startGateway } from '../gateway/server.js';
import { startMonitor } from '../monitor/server.js';
import { startPusher } from '../pusher/server.js';

/**
 * Every role in one process: what `npm start` runs. With no DATABASE_URL/REDIS_URL the store
 * is PGlite in DATA_DIR and presence lives in this process; the roles still talk over ZeroMQ.
 */
await runDaemon('pushwire', async (config, backends, log) => {
  const broker = await startBroker(busEndpoints(config.brokerHost, config.brokerInPort, config.brokerOutPort), log.child({ role: 'broker' }));
  const monitor = await startMonitor(config, backends!, log.child({ role: 'monitor' }));
  const gateway = await startGateway(config, backends!, log.child({ role: 'gateway' }));
  const api = await startApi(config, backends!, log.child({ role: 'api' }));
  const pusher = await startPusher(config, backends!, log.child({ role: 'pusher' }));
  process.stdout.write([
    '',
    'Pushwire is running.',
    `  HTTP API   ${config.publicUrl}   (try: curl -X POST ${config.publicUrl}/token/)`,
    `  websocket  ws://${config.gatewayAddress.replace(/:0$/, `:${gateway.port}`)}/   served by ${gateway.transport}`,
    ...(gateway.fallbackReason ? [`             (${gateway.fallbackReason}; PUSHWIRE_GATEWAY_TRANSPORT chooses)`] : []),
    `  monitor    ${monitor.url}/status`,
    `  pusher     ${pusher.url}/status`,
    `  data       ${config.embedded ? config.dataDir : 'PostgreSQL + Redis'}`,
    '',
  ].join('\n') + '\n');
  return {
    close: async () => {
      await api.close();
      await pusher.close();
      await gateway.close();
      await monitor.close();
      await broker.close();
    },
  };
}, { needsBackends: true, allowEmbedded: true });
