import { parseArgs } from 'node:util';
import { runDaemon } from '../core/daemon.js';
import { startApi } from './server.js';

// `--fd N`: listen on a socket the supervisor bound and passed (circus use_sockets).
const { values } = parseArgs({ options: { fd: { type: 'string' } }, strict: false });

await runDaemon('api', (config, backends, log) => startApi(config, backends!, log), {
  overrides: values.fd === undefined ? {} : { apiFd: values.fd },
});
