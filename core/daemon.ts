import { openBackends, type Backends } from './backends.js';
import { ConfigError, loadConfig, type Config, type OptionName } from './config.js';
import { createLogger, type Logger } from './log.js';

/** A running role of Pushwire (api, gateway, monitor, broker). */
export interface Role {
  /** Stops accepting, finishes what is in flight, releases everything the role opened. */
  close(): Promise<void>;
}

/**
 * Runs one role as its own process: validated config (a clear message and exit 1 when bad),
 * backends from the one factory, and a graceful stop on SIGTERM/SIGINT.
 */
export async function runDaemon(
  name: string,
  start: (config: Config, backends: Backends | null, log: Logger) => Promise<Role>,
  { needsBackends = true, allRolesHere = false, overrides = {} as Partial<Record<OptionName, unknown>> } = {},
): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env, overrides);
    // Embedded backends (SQLite, in-process presence) serve only a process that runs every role.
    if (needsBackends && config.embedded && !allRolesHere) {
      throw new ConfigError([`the ${name} daemon runs alone only with DATABASE_URL and REDIS_URL; for one process with embedded defaults run \`npm start\``]);
    }
  } catch (error) {
    process.stderr.write(`pushwire ${name}: ${(error as Error).message}\n`);
    process.exit(1);
  }
  const log = createLogger(name, config.logLevel, config.logFormat);
  let backends: Backends | null = null;
  try {
    backends = needsBackends ? await openBackends(config, log, name, allRolesHere) : null;
    const role = await start(config, backends, log);
    const stop = async (signal: string) => {
      log.info({ signal }, 'stopping');
      await role.close();
      await backends?.close();
      process.exit(0);
    };
    process.once('SIGTERM', () => void stop('SIGTERM'));
    process.once('SIGINT', () => void stop('SIGINT'));
  } catch (error) {
    log.fatal({ err: error }, 'failed to start');
    process.stderr.write(`pushwire ${name}: failed to start: ${(error as Error).message}\n`);
    await backends?.close().catch(() => {});
    process.exit(1);
  }
}
