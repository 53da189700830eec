import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface Baseline {
  url: string;
  port: number;
  pid: number;
  close(): void;
}

/** Starts a baseline server (see baseline-server.ts) in its own process; `nodeOptions` as NODE_OPTIONS. */
export function startBaseline(kind: 'uws' | 'uws-topics' | 'socketio', nodeOptions?: string): Promise<Baseline> {
  const env = nodeOptions === undefined ? process.env : { ...process.env, NODE_OPTIONS: nodeOptions };
  const child = spawn(process.execPath, [fileURLToPath(new URL('./baseline-server.js', import.meta.url)), kind], { stdio: ['ignore', 'pipe', 'pipe'], env });
  // What it says on stderr, but the inspector's notices (an inspected baseline prints several each run).
  child.stderr!.on('data', (chunk: Buffer) => {
    const said = chunk.toString().split('\n').filter((line) => !/^(Debugger (listening|attached|ending)|For help, see)/.test(line)).join('\n');
    if (said.trim()) process.stderr.write(`${said}\n`);
  });
  return started(child, kind);
}

/** Starts the durable floor (durable-floor-server.ts) on this database. */
export function startDurableFloor(databaseUrl: string): Promise<Baseline> {
  return started(spawn(process.execPath, [fileURLToPath(new URL('./durable-floor-server.js', import.meta.url))],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, DATABASE_URL: databaseUrl } }), 'durable floor');
}

function started(child: ChildProcess, kind: string): Promise<Baseline> {
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`baseline ${kind} exited (${code})`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      const port = /listening (\d+)/.exec(chunk.toString())?.[1];
      if (port) resolve({ url: `http://127.0.0.1:${port}`, port: Number(port), pid: child.pid!, close: () => child.kill() });
    });
  });
}
