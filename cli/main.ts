#!/usr/bin/env node
/**
 * `pushwire`: one command for running, checking and trying Pushwire. `serve` starts every role
 * in one process (what `npm start` runs) or one role of circus.ini's layout; the rest talk to a
 * running system or to the configuration. `--config FILE` (YAML or JSON) sits beside the
 * environment, which wins.
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { stringify as toYaml } from 'yaml';
import { ConfigError, loadConfig, options, redacted } from '../core/config.js';
import { createToken, publish, PushwireError, type MessageFields } from '../sdk/index.js';

const ROLES = ['embedded', 'api', 'gateway', 'broker', 'monitor', 'pusher'] as const;
const configOption = () => new Option('-c, --config <file>', 'configuration file (YAML or JSON); the environment wins over it');

/** `--config` as the configuration loader reads it. */
function useConfigFile(file: string | undefined): void {
  if (file !== undefined) process.env.PUSHWIRE_CONFIG_FILE = file;
}

/** The API's answer, printed; or exit 1 with its error (status, code, message). */
async function printed(answer: Promise<unknown>): Promise<void> {
  try {
    process.stdout.write(`${JSON.stringify(await answer)}\n`);
  } catch (error) {
    if (!(error instanceof PushwireError)) throw error;
    process.stderr.write(`pushwire: ${[error.status, error.code, error.message].filter((part) => part !== undefined).join(' ')}\n`);
    process.exit(1);
  }
}

const defaultApi = () => process.env.PUSHWIRE_PUBLIC_URL ?? 'http://127.0.0.1:5001';

const program = new Command('pushwire').description('Websocket-first push broker: serve it, check its configuration, make tokens, publish.');

program.command('serve')
  .description('run every role in one process (embedded, the default: what npm start runs) or one role of circus.ini\'s layout')
  .argument('[role]', `${ROLES.join(', ')}`, 'embedded')
  .addOption(configOption())
  .option('--fd <n>', 'api: listen on this inherited socket instead of its port (circus.ini\'s use_sockets)')
  .action(async (role: string, flags: { config?: string }) => {
    if (!(ROLES as readonly string[]).includes(role)) program.error(`pushwire serve: unknown role "${role}" (${ROLES.join(', ')})`);
    useConfigFile(flags.config);
    // Each role's module runs its daemon when loaded.
    await import(`../${role}/main.js`);
  });

program.command('check-config')
  .description('validate the configuration (environment and --config) and print it, secrets redacted; exit 1 when it is bad')
  .addOption(configOption())
  .action((flags: { config?: string }) => {
    useConfigFile(flags.config);
    try {
      process.stdout.write(`${JSON.stringify(redacted(loadConfig(process.env)), null, 2)}\n`);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      process.stderr.write(`pushwire: ${error.message}\n`);
      process.exit(1);
    }
  });

program.command('gen-config')
  .description('print a sample configuration file, every option commented out with its default and meaning')
  .addOption(new Option('--format <format>', 'yaml or json').choices(['yaml', 'json']).default('yaml'))
  .action((flags: { format: 'yaml' | 'json' }) => {
    const defaults = Object.fromEntries(Object.entries(options).filter(([, option]) => option.default !== undefined).map(([name, option]) => [name, option.default]));
    if (flags.format === 'json') return void process.stdout.write(`${JSON.stringify(defaults, null, 2)}\n`);
    const blocks = Object.entries(options).map(([name, option]) => {
      const value = option.default === undefined ? '' : ` ${toYaml(option.default, { collectionStyle: 'flow' }).trim()}`;
      return `# ${option.doc}\n# (${option.env})\n# ${name}:${value}`;
    });
    process.stdout.write(`# Pushwire configuration: pushwire serve --config pushwire.yaml\n# Uncomment what you change; the environment wins over this file.\n\n${blocks.join('\n\n')}\n`);
  });

program.command('token')
  .description('create a token and its own queue on a running Pushwire; prints {token, queue}')
  .option('--api <url>', 'the HTTP API', defaultApi())
  .action(async (flags: { api: string }) => {
    await printed(createToken(flags.api));
  });

program.command('publish')
  .description('publish a message to a queue URL: --title (and --body …), or a JSON message on stdin')
  .argument('<queue-url>', 'the queue\'s URL, as /token/ or POST /queue/ answered it')
  .option('--title <title>', 'the notification\'s title')
  .option('--body <text>', 'its text')
  .option('--action-url <url>', 'what opening it leads to')
  .option('--replace-id <id>', 'a newer message with this id replaces this one')
  .action(async (queueUrl: string, flags: { title?: string; body?: string; actionUrl?: string; replaceId?: string }) => {
    const message = flags.title === undefined
      ? JSON.parse(readFileSync(0, 'utf8')) as unknown
      : { title: flags.title, body: flags.body, actionUrl: flags.actionUrl, replaceId: flags.replaceId };
    await printed(publish(queueUrl, message as MessageFields));
  });

await program.parseAsync();
