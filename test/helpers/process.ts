import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';

/**
 * Kills, once this test process is gone, the process groups it still lists: it reads "pgid" and
 * "-pgid" lines on a pipe from us, and the pipe closes whenever we exit, however we exit (a failed
 * file, tap's timeout, SIGKILL). Detached, so it outlives us for that moment.
 */
const REAPER = `
const groups = new Set();
let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  pending += chunk;
  for (let end = pending.indexOf('\\n'); end >= 0; end = pending.indexOf('\\n')) {
    const group = Number(pending.slice(0, end));
    pending = pending.slice(end + 1);
    if (group > 0) groups.add(group); else groups.delete(-group);
  }
});
process.stdin.on('end', () => {
  for (const group of groups) try { process.kill(-group, 'SIGKILL'); } catch {}
  process.exit(0);
});
`;

let reaper: ChildProcess | null = null;

/** Tells the reaper about a daemon's process group (`pgid`) or, negative, that it has ended. */
function toReaper(line: number): void {
  if (!reaper) {
    reaper = spawn(process.execPath, ['-e', REAPER], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    // Neither the reaper nor its pipe keeps this process alive.
    reaper.unref();
    (reaper.stdin as Socket).unref();
  }
  reaper.stdin!.write(`${line}\n`);
}

/**
 * A daemon started as its own process, with its output kept for failure messages. It leads a
 * process group of its own, which the reaper kills if this test process ends first, so nothing a
 * test file started outlives the file and leaks into the next one.
 */
export class Daemon {
  readonly output: string[] = [];
  private child: ChildProcess | null = null;
  private exited: Promise<number | null> = Promise.resolve(null);

  /**
   * `inheritFd`: a descriptor of ours the child gets as its fd 3 (a listening socket, like circus's).
   * `graceMs`: how long a graceful stop may take before the group is killed, as circus's
   * graceful_timeout (its default: 30 s).
   */
  constructor(readonly name: string, private readonly cmd: string, private readonly args: string[], private readonly env: NodeJS.ProcessEnv, private readonly cwd: string, private readonly inheritFd?: number, private readonly graceMs = 30_000) {}

  start(): this {
    const stdio: ('ignore' | 'pipe' | number)[] = ['ignore', 'pipe', 'pipe', ...(this.inheritFd === undefined ? [] : [this.inheritFd])];
    const child = spawn(this.cmd, this.args, { env: this.env, cwd: this.cwd, stdio, detached: true });
    this.child = child;
    const group = child.pid!;
    toReaper(group);
    const keep = (chunk: Buffer) => {
      this.output.push(chunk.toString());
      if (this.output.length > 400) this.output.splice(0, 100);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.exited = new Promise((resolve) => child.once('exit', (code) => {
      toReaper(-group);
      resolve(code);
    }));
    return this;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves when the output contains `text`. */
  async waitForOutput(text: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.output.join('').includes(text)) {
      if (!this.running) throw new Error(`${this.name} exited before printing "${text}":\n${this.output.join('')}`);
      if (Date.now() > deadline) throw new Error(`${this.name} did not print "${text}" in time:\n${this.output.join('')}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /**
   * Stops it with `signal` (SIGTERM: graceful; SIGKILL: a crash) and waits for the exit: its code,
   * or null when a signal ended it. A graceful stop still running after `graceMs` is killed, as
   * circus does, and its output says so: a hang on the way out fails the test that waited, fast.
   */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (!this.running) return this.exited;
    const group = this.child!.pid!;
    process.kill(-group, signal);
    if (signal === 'SIGKILL') return this.exited;
    const grace = setTimeout(() => {
      this.output.push(`[test harness] ${this.name} still running ${this.graceMs} ms after ${signal}: killed, as circus's graceful_timeout would\n`);
      try {
        process.kill(-group, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }, this.graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(grace);
    }
  }
}
