import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ROOT, startEmbedded } from './helpers/system.js';

/**
 * The `pushwire` command (`serve` itself runs under every embedded test, which starts
 * `pushwire serve`, and every circus.ini test, whose watchers run `pushwire serve <role>`).
 */
const pushwire = (args: string[], env: Record<string, string> = {}, input?: string) => {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PUSHWIRE_') && name !== 'DATABASE_URL' && name !== 'REDIS_URL'));
  return spawnSync(process.execPath, ['dist/cli/main.js', ...args], { cwd: ROOT, env: { ...clean, ...env }, input, encoding: 'utf8', timeout: 30_000 });
};

const dir = mkdtempSync(join(tmpdir(), 'pushwire-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('--help on the command and on each subcommand', async (t) => {
  for (const args of [['--help'], ...['serve', 'check-config', 'gen-config', 'token', 'publish'].map((command) => [command, '--help'])]) {
    const result = pushwire(args);
    t.equal(result.status, 0, args.join(' '));
    t.match(result.stdout, /^Usage: pushwire/m);
  }
  t.equal(pushwire(['serve', 'nonsense']).status, 1, 'an unknown role is refused');
});

t.test('check-config: a YAML file beside the environment, printed with secrets redacted', async (t) => {
  const file = join(dir, 'pushwire.yaml');
  writeFileSync(file, 'apiPort: 7100\nqueueBacklog: 50\nadminToken: admin-hunter2-secret\nmoxieUsers:\n  key1: hunter3\n');
  const result = pushwire(['check-config', '--config', file], { PUSHWIRE_QUEUE_BACKLOG: '60', DATABASE_URL: 'postgres://app:hunter4@db/pw', REDIS_URL: 'redis://r' });
  t.equal(result.status, 0, result.stderr);
  const printed = JSON.parse(result.stdout) as Record<string, unknown>;
  t.equal(printed.apiPort, 7100, 'from the file');
  t.equal(printed.queueBacklog, 60, 'the environment wins');
  t.equal(printed.adminToken, '(a secret, not shown)');
  t.equal(printed.databaseUrl, 'postgres://app:***@db/pw');
  t.notMatch(result.stdout, /hunter/);
});

t.test('check-config: a bad value exits 1 and names it', async (t) => {
  const file = join(dir, 'bad.json');
  writeFileSync(file, JSON.stringify({ apiPort: 'http' }));
  const result = pushwire(['check-config', '--config', file]);
  t.equal(result.status, 1);
  t.match(result.stderr, /PUSHWIRE_API_PORT/);
  t.equal(result.stdout, '');
});

t.test('gen-config: the sample, YAML or JSON, is a valid configuration', async (t) => {
  for (const format of ['yaml', 'json']) {
    const sample = pushwire(['gen-config', '--format', format]);
    t.equal(sample.status, 0);
    const file = join(dir, `sample.${format}`);
    writeFileSync(file, sample.stdout);
    const checked = pushwire(['check-config', '--config', file]);
    t.equal(checked.status, 0, `${format}: ${checked.stderr}`);
  }
  const yaml = pushwire(['gen-config']).stdout;
  t.match(yaml, /^# \(PUSHWIRE_API_PORT\)\n# apiPort:$/m, 'every option, commented out');
  t.match(yaml, /^# queueBacklog: \d+$/m, 'with its default');
});

t.test('token and publish against a running Pushwire, the message from flags or stdin', async (t) => {
  const system = await startEmbedded();
  t.teardown(() => system.stop());
  const made = pushwire(['token', '--api', system.apiUrl]);
  t.equal(made.status, 0, made.stderr);
  const { token, queue } = JSON.parse(made.stdout) as { token: string; queue: string };
  t.match(token, /^[0-9a-f]{32}$/);
  const flagged = pushwire(['publish', queue, '--title', 'from flags', '--body', 'hello']);
  t.equal(flagged.status, 0, flagged.stderr);
  t.match(JSON.parse(flagged.stdout), { key: /^[0-9a-f]{24}$/, body: { title: 'from flags', body: 'hello' } });
  const piped = pushwire(['publish', queue], {}, JSON.stringify({ title: 'from stdin' }));
  t.equal(piped.status, 0, piped.stderr);
  t.match(JSON.parse(piped.stdout), { body: { title: 'from stdin' } });
  const refused = pushwire(['publish', queue, '--title', '']);
  t.equal(refused.status, 1, 'a refused message exits 1');
  t.match(refused.stderr, /^pushwire: 400 /);
});

t.test('the repository\'s pushwire.sample.yaml is what gen-config prints (npm run docs makes it)', async (t) => {
  const { readFileSync } = await import('node:fs');
  t.equal(readFileSync(join(ROOT, 'pushwire.sample.yaml'), 'utf8'), pushwire(['gen-config']).stdout);
});
