import pg from 'pg';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Reply, Request } from './pglite-worker.js';

/**
 * The few things the store needs from a database, so that the same SQL runs on PostgreSQL
 * (`pg`) and on embedded PGlite. int8 comes back as a JS number from both: every int8 we
 * store (ids, sequences, microsecond timestamps) stays below 2^53.
 */
export interface Db {
  /**
   * `name` makes it a prepared statement where the database keeps them (PostgreSQL: parsed and
   * planned once per connection, not per call; the hot statements' planning cost more than
   * their execution). The same name must always carry the same text.
   */
  query<T>(text: string, params?: unknown[], name?: string): Promise<T[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
  transaction<T>(work: (tx: Db) => Promise<T>): Promise<T>;
  /** Statements it can run at once (its connections). */
  readonly connections: number;
  close(): Promise<void>;
}

pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export class PgDb implements Db {
  private readonly pool: pg.Pool;

  /** `onIdleError`: an idle connection died (server restart, admin kill); the pool replaces it. */
  readonly connections: number;

  constructor(url: string, onIdleError: (error: Error) => void, max = 10) {
    this.connections = max;
    this.pool = new pg.Pool({ connectionString: url, max });
    this.pool.on('error', onIdleError);
  }

  async query<T>(text: string, params: unknown[] = [], name?: string): Promise<T[]> {
    return (await this.pool.query(name ? { name, text, values: params } : { text, values: params })).rows as T[];
  }

  async exec(script: string): Promise<void> {
    await this.pool.query(script);
  }

  async transaction<T>(work: (tx: Db) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const tx: Db = {
      query: async <R>(text: string, params: unknown[] = []) => (await client.query(text, params)).rows as R[],
      exec: async (script) => void (await client.query(script)),
      transaction: (inner) => inner(tx),
      connections: 1,
      close: async () => {},
    };
    try {
      await client.query('BEGIN');
      const result = await work(tx);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

/**
 * Embedded PostgreSQL (PGlite) on a worker thread of its own (pglite-worker.ts): WebAssembly
 * PostgreSQL is CPU-heavy, and on the main thread it would stall every websocket and HTTP
 * request while it plans and writes. Durable as PGlite is: a commit has been written to the data
 * folder when it answers, so a process killed afterwards keeps it.
 */
export class PgliteDb implements Db {
  /** PGlite is one connection: a second statement only waits for the first. */
  readonly connections = 1;
  private next = 1;
  private nextTx = 1;
  private readonly pending = new Map<number, { resolve(rows: unknown[]): void; reject(error: Error): void }>();

  private constructor(private readonly worker: Worker) {
    worker.on('message', (reply: Reply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.rows ?? []);
      else waiter.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }));
    });
    worker.on('error', (error) => this.failAll(error));
    worker.on('exit', (code) => this.failAll(new Error(`the PGlite worker exited (${code})`)));
  }

  static async open(dataDir: string, sharedBuffers: string): Promise<PgliteDb> {
    const start = async (initOnly: boolean) => {
      const worker = new Worker(new URL('./pglite-worker.js', import.meta.url), { workerData: { dataDir, sharedBuffers, initOnly } });
      const db = new PgliteDb(worker);
      // The worker answers request 0 once PGlite is open.
      await new Promise<unknown[]>((resolve, reject) => db.pending.set(0, { resolve, reject }));
      return db;
    };
    if (!existsSync(join(dataDir, 'PG_VERSION'))) {
      const creator = await start(true);
      await creator.worker.terminate();
    }
    return start(false);
  }

  private failAll(error: Error): void {
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }

  private request<T>(request: DistributiveOmit<Request, 'id'>): Promise<T[]> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (rows: unknown[]) => void, reject });
      this.worker.postMessage({ ...request, id });
    });
  }

  /** A named statement is prepared once on PGlite's connection (see pglite-worker.ts). */
  query<T>(text: string, params: unknown[] = [], name?: string): Promise<T[]> {
    return this.request<T>({ op: 'query', text, params, name });
  }

  async exec(script: string): Promise<void> {
    await this.request({ op: 'exec', text: script });
  }

  async transaction<T>(work: (tx: Db) => Promise<T>): Promise<T> {
    const txId = this.nextTx++;
    await this.request({ op: 'begin', tx: txId });
    const tx: Db = {
      query: <R>(text: string, params: unknown[] = []) => this.request<R>({ op: 'query', text, params, tx: txId }),
      exec: async (script) => void (await this.request({ op: 'exec', text: script, tx: txId })),
      transaction: (nested) => nested(tx),
      connections: 1,
      close: async () => {},
    };
    let result: T;
    try {
      result = await work(tx);
    } catch (error) {
      await this.request({ op: 'end', tx: txId, commit: false }).catch(() => {});
      throw error;
    }
    await this.request({ op: 'end', tx: txId, commit: true });
    return result;
  }

  async close(): Promise<void> {
    await this.request({ op: 'close' });
    await this.worker.terminate();
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
