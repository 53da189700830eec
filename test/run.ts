/**
 * `npm test`: runs every compiled test file with tap, echoes its output, and ends with the
 * plain `N passed, N failed` line that CI reads. Extra arguments select files.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensurePki, PKI_DIR_ENV } from './servers/pki.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const files = process.argv.slice(2).length
  ? process.argv.slice(2)
  // Only files whose source still exists: tsc leaves the output of a renamed test behind.
  : readdirSync(here).filter((name) => name.endsWith('.test.js') && existsSync(join(root, 'test', name.replace(/\.js$/, '.ts'))))
    .sort().map((name) => join('dist', 'test', name));

// Local push services speak TLS with a throwaway CA: every test process (and every daemon it
// starts) trusts it through NODE_EXTRA_CA_CERTS, exactly as an operator trusts a private CA.
const pkiDir = join(root, 'test-artifacts', 'pki');
ensurePki(pkiDir);
const env = { ...process.env, [PKI_DIR_ENV]: pkiDir, NODE_EXTRA_CA_CERTS: join(pkiDir, 'ca.pem') };

const tap = spawn(process.execPath, [join(root, 'node_modules', 'tap', 'dist', 'esm', 'run.mjs'),
  '--disable-coverage', '--reporter=tap', '--jobs=2', '--timeout=240', ...files], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });

let tail = '';
tap.stdout.on('data', (chunk: Buffer) => {
  process.stdout.write(chunk);
  tail = (tail + chunk.toString()).slice(-4000);
});
tap.on('exit', (code) => {
  const summary = /# \{ total: (\d+), pass: (\d+)(?:, fail: (\d+))?/.exec(tail);
  const passed = summary ? Number(summary[2]) : 0;
  const failed = summary ? Number(summary[3] ?? 0) : 1;
  process.stdout.write(`\n${passed} passed, ${failed + (code !== 0 && failed === 0 ? 1 : 0)} failed\n`);
  process.exit(code ?? 1);
});
