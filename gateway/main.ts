import { runDaemon } from '../core/daemon.js';
import { startGateway } from './server.js';

await runDaemon('gateway', (config, backends, log) => startGateway(config, backends!, log));
