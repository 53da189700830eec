import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { timed } from '../../metrics.js';
import type { ApplicationStore } from '../applications.js';
import type { DeviceStore } from '../devices.js';
import { splitFrames } from '../frame-page.js';
import type { MoxieStore } from '../moxie.js';
import type { PushOutbox } from '../outbox.js';
import type { NewMessage, ReadRequest, Store } from '../store.js';
import { appendColumns, expandInHalves, messagesFromRows, readFromRows, settingIn, storedFrom } from './shared.js';
import type { Answer, Call, Stores, Target } from './worker.js';

export interface EmbeddedStores {
  store: Store;
  devices: DeviceStore;
  outbox: PushOutbox;
  applications: ApplicationStore;
  moxie: MoxieStore;
}

/** Methods of one store, callable from this thread (each argument and answer is copied across). */
type Remote<T> = { [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never };

/** The embedded database's thread (worker.ts) and the calls waiting for its answers. */
class StoreThread {
  private next = 1;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  readonly worker: Worker;

  constructor(file: string) {
    this.worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: { file } });
    this.worker.on('message', (answer: Answer) => {
      const waiter = this.pending.get(answer.id);
      if (!waiter) return;
      this.pending.delete(answer.id);
      if (answer.ok) waiter.resolve(answer.value);
      else waiter.reject(Object.assign(new Error(answer.error.message), { code: answer.error.code }));
    });
    this.worker.on('error', (error) => this.failAll(error));
    this.worker.on('exit', (code) => this.failAll(new Error(`the embedded store's thread exited (${code})`)));
  }

  /** Resolves once the database is open and migrated (the thread answers call 0). */
  ready(): Promise<void> {
    return new Promise((resolve, reject) => this.pending.set(0, { resolve: () => resolve(), reject }));
  }

  call<T>(target: Target, method: string, args: unknown[]): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ id, target, method, args } satisfies Call);
    });
  }

  /** Every method of a store, as a call to the thread. */
  remote<K extends Target>(target: K): Remote<Stores[K]> {
    return new Proxy({} as Remote<Stores[K]>, {
      get: (_, method) => (typeof method === 'string' && method !== 'then' ? (...args: unknown[]) => this.call(target, method, args) : undefined),
    });
  }

  private failAll(error: Error): void {
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}

/**
 * The stores on embedded SQLite, in `dataDir/pushwire.sqlite`, served by a thread of their own.
 * Durable: an append has been written and fsynced when it answers.
 */
export async function openSqliteStores(dataDir: string): Promise<EmbeddedStores> {
  mkdirSync(dataDir, { recursive: true });
  const thread = new StoreThread(join(dataDir, 'pushwire.sqlite'));
  await thread.ready();
  const store = thread.remote('store');
  const outbox = thread.remote('outbox');
  const applications = thread.remote('applications');
  const remoteStore: Store = {
    writers: 1,
    migrate: store.migrate,
    ping: store.ping,
    createUser: store.createUser,
    userByToken: store.userByToken,
    usersByTokens: store.usersByTokens,
    queueForDomain: store.queueForDomain,
    queueCount: store.queueCount,
    queuesOf: store.queuesOf,
    queueByName: store.queueByName,
    queuesByNames: store.queuesByNames,
    deleteQueue: store.deleteQueue,
    setReadMarker: store.setReadMarker,
    append: (batch: readonly NewMessage[]) => timed('append', async () => {
      const { columns, bodyJsons } = appendColumns(batch);
      return storedFrom(batch, bodyJsons, await store.appendKeys(columns));
    }),
    read: (request: ReadRequest) => timed('read', async () => readFromRows(request.userId, (await store.readRows([request]))[0])),
    readFrames: (requests) => timed('read', async () => (await store.joinedFrames(requests)).map(splitFrames)),
    ranges: (requests) => timed('range', async () => (await store.rangeRows(requests)).map((rows, index) => messagesFromRows(requests[index].userId, rows))),
    hasMessage: store.hasMessage,
    lastSeqs: (userIds) => timed('last_seqs', () => store.lastSeqs(userIds)),
    prune: store.prune,
    touchUsers: store.touchUsers,
    expireIdleUsers: store.expireIdleUsers,
    close: async () => {
      await store.close();
      await thread.worker.terminate();
    },
  };
  const remoteOutbox: PushOutbox = {
    expandDue: (...args) => expandInHalves(outbox, ...args),
    anyDue: outbox.anyDue,
    claim: outbox.claim,
    record: outbox.record,
    results: outbox.results,
    depth: outbox.depth,
  };
  const remoteApplications: ApplicationStore = {
    get: applications.get,
    put: applications.put,
    setting: (name, create) => settingIn(applications, name, create),
  };
  return { store: remoteStore, devices: thread.remote('devices'), outbox: remoteOutbox, applications: remoteApplications, moxie: thread.remote('moxie') };
}
