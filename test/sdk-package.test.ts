import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { ROOT, startEmbedded } from './helpers/system.js';

/**
 * The SDK as a user gets it: `npm pack ./sdk`, installed from the tarball into a project of its
 * own, where the README's Node example compiles with `tsc` (strict, Node's module resolution)
 * and runs against a running Pushwire.
 */
const run = promisify(execFile);
const MARKER = '<!-- node-example: test/sdk-package.test.ts compiles and runs it from the packed package -->';

/** The README's Node example: the first ```ts block after its marker. */
function readmeExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const at = readme.indexOf(MARKER);
  if (at < 0) throw new Error('README.md has no Node example marker');
  return /```ts\n([\s\S]*?)```/.exec(readme.slice(at))![1];
}

t.test('the packed SDK installs into a fresh project, and the README example compiles and runs there', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pushwire-sdk-user-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const packed = JSON.parse((await run('npm', ['pack', './sdk', '--pack-destination', dir, '--json'], { cwd: ROOT })).stdout) as { filename: string; files: { path: string }[] }[];
  t.ok(packed[0].files.every((file) => file.path === 'package.json' || file.path.startsWith('dist/')), 'the tarball holds the manifest and dist/ only');

  const project = join(dir, 'project');
  await run('mkdir', [project]);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'sdk-user', private: true, type: 'module' }));
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, packed[0].filename)], { cwd: project, timeout: 180_000 });
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, outDir: 'out',
      // Node's own types from this repository; everything else comes from the project's node_modules.
      typeRoots: [join(ROOT, 'node_modules/@types')], types: ['node'],
    },
    include: ['example.ts'],
  }));
  writeFileSync(join(project, 'example.ts'), readmeExample());
  const compiled = await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', '.'], { cwd: project }).then(() => '', (error: { stdout: string }) => error.stdout);
  t.equal(compiled, '', 'tsc compiles the example with no error');
  if (compiled !== '') return;

  // A browser project (a bundler's resolution: no `node` condition) gets the browser's types.
  writeFileSync(join(project, 'browser.ts'), `import { localStorageKeyStore, PushwireClient } from '@pushwire/client';
new PushwireClient({ api: 'https://push.example.com', token: 't', store: localStorageKeyStore('t') }).start();
`);
  writeFileSync(join(project, 'tsconfig.browser.json'), JSON.stringify({
    compilerOptions: { module: 'esnext', moduleResolution: 'bundler', target: 'es2022', lib: ['es2022', 'dom'], strict: true, noEmit: true, types: [] },
    include: ['browser.ts'],
  }));
  const browser = await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.browser.json'], { cwd: project }).then(() => '', (error: { stdout: string }) => error.stdout);
  t.equal(browser, '', 'a browser project compiles against the browser types');

  const system = await startEmbedded();
  t.teardown(() => system.stop());
  const { stdout } = await run(process.execPath, ['out/example.js'], { cwd: project, timeout: 60_000, env: { ...process.env, PUSHWIRE_API: system.apiUrl } });
  t.equal(stdout.trim(), 'Hello from Node', 'the example received the message it published');
  t.match(readFileSync(join(project, 'pushwire-last-key'), 'utf8'), /^[0-9a-f]{24}$/, 'and kept its key in the file');
});
