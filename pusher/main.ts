import { runDaemon } from '../core/daemon.js';
import { startPusher } from './server.js';

await runDaemon('pusher', (config, backends, log) => startPusher(config, backends!, log));
