import { busEndpoints } from '../core/bus.js';
import { runDaemon } from '../core/daemon.js';
import { startBroker } from './proxy.js';

await runDaemon('broker', (config, _backends, log) =>
  startBroker(busEndpoints(config.brokerHost, config.brokerInPort, config.brokerOutPort), log), { needsBackends: false });
