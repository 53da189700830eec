/** The Pushwire client in Node 20: the browser client with the `ws` package and a key kept in a file. */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import WebSocket from 'ws';
import { PushwireClient, type ClientOptions, type SocketConstructor } from './client.js';
import type { KeyStore } from './storage.js';

export * from './index.js';

/** Keeps the last key in a file, replaced atomically, so a restarted process resumes after it. */
export function fileKeyStore(path: string): KeyStore {
  return {
    get: () => {
      try {
        return readFileSync(path, 'utf8').trim() || null;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
    },
    set: (key) => {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(`${path}.tmp`, key);
      renameSync(`${path}.tmp`, path);
    },
  };
}

/** A client using `ws` unless another WebSocket is given. */
export function createClient(options: ClientOptions): PushwireClient {
  return new PushwireClient({ WebSocket: WebSocket as unknown as SocketConstructor, ...options });
}
