#!/usr/bin/env node
/**
 * pushwire-bus-keys: writes the CURVE key pairs of the bus (the broker, api, gateway, monitor)
 * into a directory, for PUSHWIRE_BUS_KEYS_DIR. See README, Security.
 *
 *   npm run bus-keys                 # into ./bus-keys, what circus.ini's daemons read
 *   npm run bus-keys -- /etc/pushwire/bus-keys --replace
 */
import { Command } from 'commander';
import { writeBusKeys } from '../core/bus/curve.js';
import { options as configOptions } from '../core/config.js';

const command = new Command()
  .name('pushwire-bus-keys')
  .description('Write the bus\'s CURVE keys: NAME.key (public) and NAME.secret (mode 0600) for the broker, api, gateway and monitor.')
  .argument('[dir]', 'where to write them (PUSHWIRE_BUS_KEYS_DIR)', configOptions.busKeysDir.default)
  .option('--replace', 'replace keys already there (every daemon must then restart with the new ones)', false)
  .parse();

const [dir] = command.processedArgs as [string];
try {
  const written = writeBusKeys(dir, { replace: (command.opts() as { replace: boolean }).replace });
  process.stdout.write(`bus keys for ${written.join(', ')} written to ${dir}\n`
    + `  the broker needs broker.key, broker.secret and the roles' .key files; each role its own pair and broker.key\n`);
} catch (error) {
  process.stderr.write(`pushwire-bus-keys: ${(error as Error).message}\n`);
  process.exit(1);
}
