import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { findUws } from '../gateway/transport/uws-loader.js';
import { ROOT } from './helpers/system.js';

// Which uWebSockets.js build the gateway takes, in a project whose node_modules we lay out.
const binary = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
const fork = join(ROOT, 'node_modules', '@trufflesuite', 'uws-js-unofficial');
const forkBinary = join(fork, 'binaries', binary);
const noForkBuild = existsSync(forkBinary) ? false : `the shipped fork has no build for Node ${process.version}`;

/** A project with these packages: `binary` is a file to link as the package's native build, `garbage` a file that is no library. */
function project(t: Test, packages: Record<string, { binary?: string; garbage?: true; link?: string }>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pushwire-uws-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, spec] of Object.entries(packages)) {
    const home = join(dir, 'node_modules', name);
    mkdirSync(join(home, '..'), { recursive: true });
    if (spec.link) {
      symlinkSync(spec.link, home);
      continue;
    }
    mkdirSync(home);
    writeFileSync(join(home, 'package.json'), JSON.stringify({ name, main: 'uws.js' }));
    writeFileSync(join(home, 'uws.js'), 'throw new Error("the loader requires the binary, not this");\n');
    if (spec.binary) symlinkSync(spec.binary, join(home, binary));
    if (spec.garbage) writeFileSync(join(home, binary), 'not an ELF file');
  }
  return join(dir, 'index.js');
}

t.test('a newer build that loads is preferred over the shipped fork', { skip: noForkBuild }, async (t) => {
  const from = project(t, { 'uWebSockets.js': { binary: forkBinary }, '@trufflesuite/uws-js-unofficial': { link: fork } });
  const found = findUws(from);
  t.equal(found.uws && found.name, 'uWebSockets.js');
  t.equal(typeof found.uws?.App, 'function');
});

t.test('builds that do not load are passed over for the next one', { skip: noForkBuild }, async (t) => {
  const from = project(t, {
    'uWebSockets.js': { garbage: true },
    '@btc-vision/uwebsockets.js': {},
    '@trufflesuite/uws-js-unofficial': { link: fork },
  });
  const found = findUws(from);
  t.equal(found.uws && found.name, '@trufflesuite/uws-js-unofficial');
});

t.test('none loads: each says why, telling a missing build from a broken one', async (t) => {
  const from = project(t, { 'uWebSockets.js': { garbage: true }, '@btc-vision/uwebsockets.js': {} });
  const found = findUws(from);
  t.equal(found.uws, null);
  t.match(!found.uws && found.failures, [
    { name: 'uWebSockets.js', missing: false, reason: /\S/ },
    { name: '@btc-vision/uwebsockets.js', missing: true, reason: `no build for Node ${process.version} (ABI ${process.versions.modules})` },
  ]);
  t.same(findUws(project(t, {})), { uws: null, failures: [] }, 'no package at all');
});
