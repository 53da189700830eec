import t from 'tap';
import { ConfigError, loadConfig } from '../core/config.js';

t.test('defaults: embedded, dev ports, loopback', async (t) => {
  const config = loadConfig({});
  t.equal(config.embedded, true);
  t.same([config.apiPort, config.gatewayPort, config.monitorPort, config.brokerInPort, config.brokerOutPort], [5001, 5002, 5003, 5560, 5561]);
  t.equal(config.publicUrl, 'http://127.0.0.1:5001');
  t.equal(config.gatewayAddress, '127.0.0.1:5002');
  t.ok(Object.isFrozen(config));
});

t.test('test profile ports, and explicit ports win over the profile', async (t) => {
  const config = loadConfig({ PUSHWIRE_PROFILE: 'test', PUSHWIRE_GATEWAY_PORT: '6000' });
  t.same([config.apiPort, config.gatewayPort, config.monitorPort, config.brokerInPort, config.brokerOutPort], [5011, 6000, 5013, 5570, 5571]);
});

t.test('multi-process mode needs both URLs', async (t) => {
  const config = loadConfig({ DATABASE_URL: 'postgres://x@h/db', REDIS_URL: 'redis://h:6379' });
  t.equal(config.embedded, false);
  t.throws(() => loadConfig({ DATABASE_URL: 'postgres://x@h/db' }), /DATABASE_URL and REDIS_URL go together/);
});

t.test('every bad value is reported with its variable name', async (t) => {
  try {
    loadConfig({ PUSHWIRE_API_PORT: 'eighty', PUSHWIRE_PROFILE: 'prod', DATABASE_URL: 'mysql://x', PUSHWIRE_MAX_LIMIT: '5', PUSHWIRE_DEFAULT_LIMIT: '10' });
    t.fail('should throw');
  } catch (error) {
    t.type(error, ConfigError);
    const message = (error as Error).message;
    t.match(message, /PUSHWIRE_API_PORT="eighty"/);
    t.match(message, /PUSHWIRE_PROFILE="prod"/);
    t.match(message, /DATABASE_URL="mysql:\/\/x": must start with postgres:\/\//);
  }
  t.throws(() => loadConfig({ PUSHWIRE_MAX_LIMIT: '5', PUSHWIRE_DEFAULT_LIMIT: '10' }), /PUSHWIRE_MAX_LIMIT must be at least/);
});

t.test('a JSON file under the environment', async (t) => {
  const { writeFileSync, mkdtempSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const file = join(mkdtempSync(join(tmpdir(), 'pwcfg-')), 'pushwire.json');
  writeFileSync(file, JSON.stringify({ apiPort: 7001, queueBacklog: 50 }));
  const config = loadConfig({ PUSHWIRE_CONFIG_FILE: file, PUSHWIRE_API_PORT: '7002' });
  t.equal(config.apiPort, 7002, 'environment wins over the file');
  t.equal(config.queueBacklog, 50);
  writeFileSync(file, JSON.stringify({ apiPrt: 1 }));
  t.throws(() => loadConfig({ PUSHWIRE_CONFIG_FILE: file }), /unknown option "apiPrt"/);
});

t.test('the README documents every option', async (t) => {
  const { readFileSync } = await import('node:fs');
  const { options } = await import('../core/config.js');
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  for (const option of Object.values(options)) t.match(readme, `\`${option.env}\``, option.env);
});

t.test('a configuration error names a rejected secret but never prints it', async (t) => {
  const { loadConfig } = await import('../core/config.js');
  const message = (() => {
    try {
      loadConfig({ PUSHWIRE_ADMIN_TOKEN: 'short-hunter1', PUSHWIRE_MOXIE_USERS: 'key-without-secret-hunter2', DATABASE_URL: 'mysql://app:hunter3@db/pw', REDIS_URL: 'redis://r' });
    } catch (error) {
      return (error as Error).message;
    }
    return '';
  })();
  t.match(message, /PUSHWIRE_ADMIN_TOKEN=\(a secret, not shown\)/);
  t.match(message, /PUSHWIRE_MOXIE_USERS=\(a secret, not shown\)/);
  t.match(message, /DATABASE_URL="mysql:\/\/app:\*\*\*@db\/pw"/);
  t.notMatch(message, /hunter1|hunter2|hunter3/);
});

t.test('the README\'s configuration table is the one the definitions make (npm run docs)', async (t) => {
  const { readFileSync } = await import('node:fs');
  const { configTable, withTable } = await import('../core/config-doc.js');
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  t.equal(withTable(readme), readme, 'run `npm run docs` after changing an option');
  t.notMatch(configTable(), /\[object Object\]/, 'every default is shown as a value');
  t.match(configTable(), '| `PUSHWIRE_MOXIE_USERS` | `moxieUsers` | none |');
});
