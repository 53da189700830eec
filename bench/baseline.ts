import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface Baseline {
  url: string;
  port: number;
  pid: number;
  close(): void;
}

/** Starts a baseline server (see baseline-server.ts) in its own process. */
export function startBaseline(kind: 'uws' | 'uws-topics' | 'socketio'): Promise<Baseline> {
  const child: ChildProcess = spawn(process.execPath, [fileURLToPath(new URL('./baseline-server.js', import.meta.url)), kind], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`baseline ${kind} exited (${code})`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      const port = /listening (\d+)/.exec(chunk.toString())?.[1];
      if (port) resolve({ url: `http://127.0.0.1:${port}`, port: Number(port), pid: child.pid!, close: () => child.kill() });
    });
  });
}
