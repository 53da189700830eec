import { runDaemon } from '../core/daemon.js';
import { startApi } from './server.js';

await runDaemon('api', (config, backends, log) => startApi(config, backends!, log));
