/**
 * Builds the browser files the api serves under /sdk/: `pushwire.js` (the client as one
 * minified ES module, no dependencies) and `sw.js` (the Web Push service worker). Run by
 * `npm run build` after tsc; prints each file's minified and gzipped size.
 */
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BUNDLE_DIR, ROOT } from './paths.js';

const targets = [
  { entry: 'sdk/index.ts', out: 'pushwire.js', format: 'esm' as const },
  { entry: 'sdk/sw.ts', out: 'sw.js', format: 'iife' as const },
];

for (const target of targets) {
  const outfile = join(BUNDLE_DIR, target.out);
  await build({
    entryPoints: [join(ROOT, target.entry)], outfile, bundle: true, minify: true, format: target.format,
    target: 'es2020', platform: 'browser', legalComments: 'none', logLevel: 'warning',
  });
  const bytes = readFileSync(outfile);
  process.stdout.write(`sdk bundle ${target.out}: ${bytes.length} bytes minified, ${gzipSync(bytes).length} gzipped\n`);
}
