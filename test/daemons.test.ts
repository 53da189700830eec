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
