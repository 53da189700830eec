import { fork } from 'node:child_process';
import t from 'tap';
import { cpuSeconds } from '../bench/cpu.js';

/**
 * The benchmarks' CPU figures divide a process tree's CPU time by a count of deliveries; a
 * broadcast round is worth 60–120 ms of it, so the reading must hold to a millisecond or so, not
 * to the 10 ms clock tick of /proc/PID/stat. A child burns known amounts of CPU, measured by its
 * own getrusage, and cpuSeconds must agree. By the median of the burns: what the child does
 * between its own reading and ours (sending its answer, a collection of its young generation)
 * lands on one side of one burn and the other side of the next, up to 5 ms apart on a loaded
 * machine, where the tick reading is off by up to 10 ms at every read.
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
  const errors: number[] = [];
  const said: string[] = [];
  for (const ms of [13, 27, 41, 6, 33, 18, 9, 22, 37]) {
    const { totalMs } = await burn(ms);
    const read = cpuSeconds([child.pid!]);
    const measured = (read - previousRead) * 1000;
    const spent = totalMs - previous;
    errors.push(Math.abs(measured - spent));
    said.push(`${spent.toFixed(2)} / ${measured.toFixed(2)}`);
    previous = totalMs;
    previousRead = read;
  }
  const median = [...errors].sort((a, b) => a - b)[Math.floor(errors.length / 2)];
  t.ok(median < 1, `the median burn is read within 1 ms (${median.toFixed(2)} ms off; the child's count / cpuSeconds, ms: ${said.join(', ')})`);
});

t.test('cpuSeconds counts a process that is gone as 0, and sums several', async (t) => {
  t.equal(cpuSeconds([2 ** 22 + 12345]), 0, 'no such process');
  const mine = cpuSeconds([process.pid]);
  t.ok(mine > 0, 'this process has run');
  t.ok(cpuSeconds([process.pid, process.pid]) >= 2 * mine, 'two pids add up');
});
