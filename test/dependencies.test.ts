import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import t from 'tap';
import { ROOT } from './helpers/system.js';

/**
 * What a server install needs: every package that the daemons and their operational tools can
 * load (statically or on demand) is a runtime dependency, and nothing they never load (the load
 * test tool's, the benchmarks') is. Followed through the compiled modules from each entry point.
 */
const ENTRY_POINTS = ['cli/main.js', 'api/main.js', 'gateway/main.js', 'broker/main.js', 'monitor/main.js', 'pusher/main.js', 'embedded/main.js', 'broker/bus-keys.js'];
// Imports, dynamic imports, requires, and modules a worker thread runs (`new URL('./x.js', import.meta.url)`).
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\(\s*|\bnew URL\(\s*)['"]([^'"]+)['"]/g;

const packageName = (specifier: string) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');

/** The packages the modules reachable from `entries` load. */
function packagesLoaded(entries: string[]): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const pending = entries.map((entry) => join(ROOT, 'dist', entry));
  while (pending.length) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(SPECIFIER)) {
      if (specifier.startsWith('.')) {
        if (specifier.endsWith('.js')) pending.push(resolve(dirname(file), specifier));
      } else if (/^[@a-z]/.test(specifier) && !specifier.includes(':') && !builtinModules.includes(specifier)) {
        packages.add(packageName(specifier));
      }
    }
  }
  return packages;
}

t.test('the daemons load runtime dependencies only, and the load-test tool\'s packages are not among them', async (t) => {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
  const loaded = packagesLoaded(ENTRY_POINTS);
  t.ok(loaded.has('fastify') && loaded.has('zeromq') && loaded.has('better-sqlite3'), 'the walk finds what the daemons load');
  for (const name of [...loaded].sort()) t.ok(name in manifest.dependencies, `${name} is a runtime dependency`);
  for (const name of ['cli-progress', 'cli-table3', 'hdr-histogram-js']) {
    t.notOk(loaded.has(name), `no daemon loads ${name}`);
    t.ok(name in manifest.devDependencies, `${name} is a development dependency`);
  }
});
