import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startEmbedded } from './helpers/system.js';

// `npm start` stored in PGlite until 2026-12-03; its data directory is not read any more, and an
// operator who upgrades must be told rather than find the messages gone.
const WARNING = 'holds the PGlite database of an earlier Pushwire';

t.test('a DATA_DIR with an earlier PGlite database: npm start says it does not read it', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'pushwire-data-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  writeFileSync(join(dataDir, 'PG_VERSION'), '17\n');
  const system = await startEmbedded({ PUSHWIRE_DATA_DIR: dataDir });
  t.teardown(() => system.stop());
  t.match(system.output(), 'Pushwire is running.');
  t.match(system.output(), WARNING);
});

t.test('a DATA_DIR without one: no such warning', async (t) => {
  const system = await startEmbedded();
  t.teardown(() => system.stop());
  t.match(system.output(), 'Pushwire is running.', 'started (the output is complete up to the banner)');
  t.notMatch(system.output(), WARNING);
});
