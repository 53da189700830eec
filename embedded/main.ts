import { startApi } from '../api/server.js';
import type { ZeroMqBus } from '../core/bus/zeromq.js';
import { runDaemon, type Role } from '../core/daemon.js';
import { startGateway } from '../gateway/server.js';
import { startMonitor } from '../monitor/server.js';
import { startPusher } from '../pusher/server.js';

/**
 * Every role in one process: what `npm start` runs. With no DATABASE_URL/REDIS_URL the store
 * is SQLite in DATA_DIR and presence lives in this process. The roles talk over the in-memory
 * bus (no broker), unless PUSHWIRE_BUS=zeromq asks for the broker's path in one process.
 */
await runDaemon('pushwire', async (config, backends, log) => {
  // Roles start in order; if one fails, those already running stop, or the process could not
  // exit (ZeroMQ waits for open sockets at exit).
  const started: Role[] = [];
  const start = async <R extends Role>(starting: Promise<R>): Promise<R> => {
    const role = await starting;
    started.push(role);
    return role;
  };
  const { broker, monitor, gateway, api, pusher } = await (async () => ({
    // ZeroMQ is loaded only when asked for: the in-memory bus is the default here.
    broker: backends!.bus.kind === 'zeromq'
      ? await start((async () => {
        const { startBroker } = await import('../broker/proxy.js');
        const bus = backends!.bus as ZeroMqBus;
        return startBroker(bus.endpoints, log.child({ role: 'broker' }), bus.brokerKeys);
      })())
      : null,
    monitor: await start(startMonitor(config, backends!, log.child({ role: 'monitor' }))),
    gateway: await start(startGateway(config, backends!, log.child({ role: 'gateway' }))),
    api: await start(startApi(config, backends!, log.child({ role: 'api' }))),
    pusher: await start(startPusher(config, backends!, log.child({ role: 'pusher' }))),
  }))().catch(async (error: unknown) => {
    for (const role of started.reverse()) await role.close().catch(() => {});
    throw error;
  });
  process.stdout.write([
    '',
    'Pushwire is running.',
    `  HTTP API   ${config.publicUrl}   (try: curl -X POST ${config.publicUrl}/token/)`,
    `  websocket  ws://${config.gatewayAddress.replace(/:0$/, `:${gateway.port}`)}/   served by ${gateway.transport}`,
    ...(gateway.fallbackReason ? [`             (${gateway.fallbackReason}; PUSHWIRE_GATEWAY_TRANSPORT chooses)`] : []),
    ...(config.demoPrefix === 'off' ? [] : [`  demo page  ${config.publicUrl}${config.demoPrefix}/   (open it in a browser)`]),
    `  API docs   ${config.publicUrl}/docs   (OpenAPI: ${config.publicUrl}/openapi.json)`,
    `  dashboard  ${monitor.url}/dashboard`,
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
      await broker?.close();
    },
  };
}, { needsBackends: true, allRolesHere: true });
