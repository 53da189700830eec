import { runDaemon } from '../core/daemon.js';
import { startMonitor } from './server.js';

await runDaemon('monitor', (config, backends, log) => startMonitor(config, backends!, log));
