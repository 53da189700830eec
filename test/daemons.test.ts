import t from 'tap';
import { spawnSync } from 'node:child_process';
import { ROOT } from './helpers/system.js';

const run = (script: string, env: Record<string, string>) =>
  spawnSync(process.execPath, [script], { cwd: ROOT, env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', timeout: 20_000 });

t.test('a daemon with bad configuration says what is wrong and exits 1', async (t) => {
  const result = run('dist/api/main.js', { PUSHWIRE_API_PORT: 'http', PUSHWIRE_MAX_LIMIT: '-3' });
  t.equal(result.status, 1);
  t.match(result.stderr, /PUSHWIRE_API_PORT="http"/);
  t.match(result.stderr, /PUSHWIRE_MAX_LIMIT="-3"/);
});

t.test('api, gateway and monitor refuse to run alone without PostgreSQL and Redis, and point at npm start', async (t) => {
  for (const role of ['api', 'gateway', 'monitor']) {
    const result = run(`dist/${role}/main.js`, {});
    t.equal(result.status, 1, role);
    t.match(result.stderr, /DATABASE_URL and REDIS_URL.*npm start/, role);
  }
});

t.test('the bus: keys made by the bus-keys command, refused without them, plain only on loopback', async (t) => {
  const { mkdtempSync, rmSync, statSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const parent = mkdtempSync(join(tmpdir(), 'pushwire-keys-'));
  t.teardown(() => rmSync(parent, { recursive: true, force: true }));
  const dir = join(parent, 'bus-keys');

  const missing = run('dist/broker/main.js', { PUSHWIRE_PROFILE: 'test', PUSHWIRE_BUS_KEYS_DIR: dir, PUSHWIRE_BROKER_HTTP_PORT: '0' });
  t.equal(missing.status, 1, 'the broker does not start without its keys');
  t.match(missing.stderr, new RegExp(`${dir}/broker\\.key is missing: create the bus keys with \`npm run bus-keys`));

  const made = spawnSync(process.execPath, ['dist/broker/bus-keys.js', dir], { cwd: ROOT, encoding: 'utf8' });
  t.equal(made.status, 0, made.stderr);
  for (const name of ['broker', 'api', 'gateway', 'monitor']) {
    t.equal(statSync(join(dir, `${name}.secret`)).mode & 0o777, 0o600, `${name}.secret is private`);
    t.ok(statSync(join(dir, `${name}.key`)).isFile());
  }
  const again = spawnSync(process.execPath, ['dist/broker/bus-keys.js', dir], { cwd: ROOT, encoding: 'utf8' });
  t.equal(again.status, 1, 'keys in use are not replaced unless asked');
  t.match(again.stderr, /already holds bus keys.*--replace/);

  const exposed = run('dist/broker/main.js', { PUSHWIRE_BUS_SECURITY: 'plain', PUSHWIRE_BROKER_HOST: '0.0.0.0' });
  t.equal(exposed.status, 1);
  t.match(exposed.stderr, /PUSHWIRE_BUS_SECURITY=plain needs the broker on a loopback address \(PUSHWIRE_BROKER_HOST is 0\.0\.0\.0\)/);
});
