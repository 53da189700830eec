import { spawn, type ChildProcess } from 'node:child_process';

/** A daemon started as its own process, with its output kept for failure messages. */
export class Daemon {
  readonly output: string[] = [];
  private child: ChildProcess | null = null;
  private exited: Promise<number | null> = Promise.resolve(null);

  /** `inheritFd`: a descriptor of ours the child gets as its fd 3 (a listening socket, like circus's). */
  constructor(readonly name: string, private readonly cmd: string, private readonly args: string[], private readonly env: NodeJS.ProcessEnv, private readonly cwd: string, private readonly inheritFd?: number) {}

  start(): this {
    const stdio: ('ignore' | 'pipe' | number)[] = ['ignore', 'pipe', 'pipe', ...(this.inheritFd === undefined ? [] : [this.inheritFd])];
    const child = spawn(this.cmd, this.args, { env: this.env, cwd: this.cwd, stdio });
    this.child = child;
    const keep = (chunk: Buffer) => {
      this.output.push(chunk.toString());
      if (this.output.length > 400) this.output.splice(0, 100);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
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

  /** Stops it with `signal` (SIGTERM: graceful; SIGKILL: a crash) and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.running) this.child!.kill(signal);
    return this.exited;
  }
}
