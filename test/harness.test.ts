import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import { eventually } from './helpers/client.js';

const helper = pathToFileURL(join(import.meta.dirname, 'helpers', 'process.js')).href;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A test process that starts a daemon, prints its pid, then waits to be killed. */
function testProcess(): Promise<{ pid: number; daemon: number }> {
  const script = `
    import { Daemon } from ${JSON.stringify(helper)};
    const daemon = new Daemon('sleeper', process.execPath, ['-e', 'setInterval(() => {}, 1000)'], process.env, process.cwd()).start();
    console.log(daemon.pid);
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => resolve({ pid: child.pid!, daemon: Number(chunk.toString().trim()) }));
    child.once('exit', () => reject(new Error('the test process ended before starting its daemon')));
  });
}

t.test('a test process killed outright (tap\'s timeout ends with SIGKILL) leaves none of its daemons behind', async (t) => {
  const { pid, daemon } = await testProcess();
  t.ok(alive(daemon), `its daemon ${daemon} runs`);
  process.kill(pid, 'SIGKILL');
  await eventually(() => !alive(daemon), 10_000);
  t.pass('and is gone once the test process is');
});

t.test('a daemon stopped on purpose is stopped with its whole process group', async (t) => {
  const { Daemon } = await import('./helpers/process.js');
  // A daemon with a child of its own: both go.
  const daemon = new Daemon('parent', process.execPath, ['-e', `
    const { spawn } = require('node:child_process');
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    console.log(child.pid);
    setInterval(() => {}, 1000);
  `], process.env, process.cwd()).start();
  await eventually(() => /\d+/.test(daemon.output.join('')));
  const grandchild = Number(daemon.output.join('').trim());
  t.ok(alive(grandchild), 'its own child runs');
  await daemon.stop('SIGTERM');
  await eventually(() => !alive(grandchild), 10_000);
  t.pass('and is stopped with it');
});

t.test('a daemon that does not stop on SIGTERM is killed after its grace, as circus would, and its output says so', async (t) => {
  const { Daemon } = await import('./helpers/process.js');
  const stubborn = new Daemon('stubborn', process.execPath, ['-e', `
    process.on('SIGTERM', () => console.log('ignoring SIGTERM'));
    console.log('ready');
    setInterval(() => {}, 1000);
  `], process.env, process.cwd(), undefined, 500).start();
  await stubborn.waitForOutput('ready');
  const pid = stubborn.pid!;
  t.equal(await stubborn.stop('SIGTERM'), null, 'ended by a signal, not an exit code');
  t.notOk(alive(pid), 'and is gone');
  t.match(stubborn.output.join(''), /ignoring SIGTERM[\s\S]*stubborn still running 500 ms after SIGTERM: killed/);
});
