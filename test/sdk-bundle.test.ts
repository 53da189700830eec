import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import t from 'tap';
import { BUNDLE_DIR } from '../sdk/paths.js';

/** The browser client's size budget, minified and gzipped. Raise it only with a reason in the commit. */
const BUDGET_GZIP_BYTES = 5 * 1024;

t.test('the browser bundle is one self-contained module within its size budget', async (t) => {
  const bundle = readFileSync(join(BUNDLE_DIR, 'pushwire.js'));
  const gzipped = gzipSync(bundle).length;
  t.ok(gzipped <= BUDGET_GZIP_BYTES, `${gzipped} bytes gzipped (${bundle.length} minified), budget ${BUDGET_GZIP_BYTES}`);
  t.notMatch(bundle.toString(), /\bimport\s*[\w{*]|\bimport\(|\brequire\(/, 'imports nothing at run time');
  t.match(bundle.toString(), /export\s*{/, 'an ES module');
  const worker = readFileSync(join(BUNDLE_DIR, 'sw.js')).toString();
  t.match(worker, /notificationclick/, 'the service worker is built too');
});

t.test('the package (sdk/package.json) exports files that exist and load', async (t) => {
  const manifest = JSON.parse(readFileSync(join(BUNDLE_DIR, '..', 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
  const targets = JSON.stringify(manifest.exports).match(/\.\/dist\/[\w.]+/g)!;
  for (const target of new Set(targets)) t.ok(existsSync(join(BUNDLE_DIR, '..', target)), target);
  const node = await import(pathToFileURL(join(BUNDLE_DIR, 'node.js')).href) as Record<string, unknown>;
  for (const name of ['createClient', 'fileKeyStore', 'PushwireClient', 'createToken', 'Backoff']) t.type(node[name], 'function', `node entry exports ${name}`);
});
