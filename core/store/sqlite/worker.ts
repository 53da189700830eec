/**
 * The embedded database's own thread: SQLite runs here, so its CPU and its fsyncs never stall
 * the event loop that serves websockets and HTTP. The main thread calls the stores below through
 * `openSqliteStores` (remote.ts), one message per call; calls run one at a time, in arrival order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteApplications } from './applications.js';
import { Sqlite } from './db.js';
import { SqliteDevices } from './devices.js';
import { SqliteMoxie } from './moxie.js';
import { SqliteOutbox } from './outbox.js';
import { SqliteStore } from './store.js';

export interface Call { id: number; target: Target; method: string; args: unknown[] }
export type Answer =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: { message: string; code?: string } };

/** Opens the database and its stores; `migrate` brings the schema up to date first. */
export function openStores(file: string) {
  const sqlite = new Sqlite(file);
  return {
    store: new SqliteStore(sqlite),
    devices: new SqliteDevices(sqlite),
    outbox: new SqliteOutbox(sqlite),
    applications: new SqliteApplications(sqlite),
    moxie: new SqliteMoxie(sqlite),
  };
}

export type Stores = ReturnType<typeof openStores>;
export type Target = keyof Stores;

const port = parentPort;
if (port) {
  const { file } = workerData as { file: string };
  const answer = (message: Answer) => port.postMessage(message);
  const failure = (id: number, error: unknown): Answer => ({ id, ok: false, error: { message: (error as Error).message, code: (error as { code?: string }).code } });
  try {
    const stores = openStores(file);
    await stores.store.migrate();
    port.on('message', (call: Call) => {
      const target = stores[call.target] as unknown as Record<string, (...args: unknown[]) => unknown>;
      Promise.resolve()
        .then(() => target[call.method](...call.args))
        .then((value) => answer({ id: call.id, ok: true, value }), (error: unknown) => answer(failure(call.id, error)));
    });
    answer({ id: 0, ok: true, value: null });
  } catch (error) {
    answer(failure(0, error));
  }
}
