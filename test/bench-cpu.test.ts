import { fork } from 'node:child_process';
import t from 'tap';
import { cpuSeconds } from '../bench/cpu.js';

/**
 * The benchmarks' CPU figures divide a process tree's CPU time by a count of deliveries; a
 * broadcast round is worth 60–120 ms of it, so the reading must hold to a millisecond or so, not
 * to the 10 ms clock tick of /proc/PID/stat. A child burns known amounts of CPU, measured by its
 * own getrusage, and cpuSeconds must agree.
 */
const CHILD = `
process.on('message', (ms) => {
  const start = process.cpuUsage();
  const used = () => { const u = process.cpuUsage(start); return (u.user + u.system) / 1000; };
  let sink = 0;
  while (used() < ms) for (let i = 0; i < 10000; i++) sink += i;
  const total = process.cpuUsage();
  process.send({ totalMs: (total.user + total.system) / 1000, sink });
});
process.send('ready');
`;

t.test('cpuSeconds reads a process\'s CPU time to the millisecond', async (t) => {
  const child = fork('-e', [CHILD], { execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  t.teardown(() => void child.kill('SIGKILL'));
  const next = () => new Promise<unknown>((resolve) => child.once('message', resolve));
  await next();
  let previous = (await burn(0)).totalMs;
  let previousRead = cpuSeconds([child.pid!]);
  async function burn(ms: number): Promise<{ totalMs: number }> {
    child.send(ms);
    return (await next()) as { totalMs: number };
  }
  // Amounts that are not multiples of a tick, so rounding to ticks shows.
  for (const ms of [13, 27, 41, 6, 33]) {
    const { totalMs } = await burn(ms);
    const read = cpuSeconds([child.pid!]);
    const measured = (read - previousRead) * 1000;
    const spent = totalMs - previous;
    t.ok(Math.abs(measured - spent) < 3, `burning ${ms} ms: the child counted ${spent.toFixed(2)} ms, cpuSeconds ${measured.toFixed(2)} ms`);
    previous = totalMs;
    previousRead = read;
  }
});

t.test('cpuSeconds counts a process that is gone as 0, and sums several', async (t) => {
  t.equal(cpuSeconds([2 ** 22 + 12345]), 0, 'no such process');
  const mine = cpuSeconds([process.pid]);
  t.ok(mine > 0, 'this process has run');
  t.ok(cpuSeconds([process.pid, process.pid]) >= 2 * mine, 'two pids add up');
});
