/**
 * Builds the SDK package (sdk/dist, next to sdk/package.json): `pushwire.js` (the browser
 * client as one minified ES module, no dependencies; the api serves it at /sdk/), `sw.js` (the
 * Web Push service worker) and `node.js` (the Node entry, `ws` left as the package's one
 * dependency). Types come from `tsc -p sdk`. Run by `npm run build`; prints each file's size.
 */
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BUNDLE_DIR, ROOT } from './paths.js';

const targets = [
  { entry: 'sdk/index.ts', out: 'pushwire.js', format: 'esm' as const, platform: 'browser' as const },
  { entry: 'sdk/sw.ts', out: 'sw.js', format: 'iife' as const, platform: 'browser' as const },
  { entry: 'sdk/node.ts', out: 'node.js', format: 'esm' as const, platform: 'node' as const },
];

for (const target of targets) {
  const outfile = join(BUNDLE_DIR, target.out);
  await build({
    entryPoints: [join(ROOT, target.entry)], outfile, bundle: true, minify: target.platform === 'browser', format: target.format,
    target: target.platform === 'node' ? 'node20' : 'es2020', platform: target.platform, external: ['ws'], legalComments: 'none', logLevel: 'warning',
  });
  const bytes = readFileSync(outfile);
  process.stdout.write(`sdk/dist/${target.out}: ${bytes.length} bytes, ${gzipSync(bytes).length} gzipped\n`);
}
