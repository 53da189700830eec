import t from 'tap';
import { spawn } from 'node:child_process';
import { collectGarbage } from '../bench/collect-garbage.js';

/**
 * A child that keeps an object only weakly, and so does its worker thread; on each line it reads,
 * it answers whether each still has its object.
 */
const CHILD = `
import { Worker } from 'node:worker_threads';
const WORKER = "const { parentPort } = require('node:worker_threads'); const ref = new WeakRef({ payload: new Array(1000).fill(0) }); parentPort.on('message', () => parentPort.postMessage(ref.deref() === undefined ? 'collected' : 'alive')); parentPort.postMessage('ready');";
const worker = new Worker(WORKER, { eval: true, execArgv: [] });
const ref = new WeakRef({ payload: new Array(1000).fill(0) });
const ask = () => new Promise((resolve) => { worker.once('message', resolve); worker.postMessage('?'); });
await new Promise((resolve) => worker.once('message', resolve));
process.stdin.on('data', async () => process.stdout.write(\`\${ref.deref() === undefined ? 'collected' : 'alive'} \${await ask()}\\n\`));
process.stdout.write('ready\\n');
`;

t.test('a full collection in another process, through its inspector, frees what its main thread and its worker hold only weakly', async (t) => {
  const child = spawn(process.execPath, ['--inspect=127.0.0.1:0', '--input-type=module', '-e', CHILD], { stdio: ['pipe', 'pipe', 'ignore'] });
  t.teardown(() => child.kill());
  const lines: string[] = [];
  let waiting: (() => void) | null = null;
  child.stdout.on('data', (chunk: Buffer) => {
    lines.push(...chunk.toString().trim().split('\n'));
    waiting?.();
  });
  const next = async (): Promise<string> => {
    while (lines.length === 0) await new Promise<void>((resolve) => (waiting = resolve));
    return lines.shift()!;
  };
  t.equal(await next(), 'ready');
  child.stdin.write('?\n');
  t.equal(await next(), 'alive alive', 'an idle process collects nothing on its own, in either thread');
  await collectGarbage(child.pid!);
  child.stdin.write('?\n');
  t.equal(await next(), 'collected collected', 'after the collection, both weakly held objects are gone');
});

t.test('a process without an inspector is an error, not a silent no-op', async (t) => {
  await t.rejects(collectGarbage(process.pid), /no inspector/);
});
