import pg from 'pg';

/**
 * The few things the SQL stores need from PostgreSQL. int8 comes back as a JS number: every int8
 * we store (ids, sequences, microsecond timestamps) stays below 2^53.
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

/** PostgreSQL's planner cost of one page read out of order, relative to one read in order (its default: 4). */
export const RANDOM_PAGE_COST = 1.1;

export class PgDb implements Db {
  private readonly pool: pg.Pool;
  /** Connections whose socket is open (counted from the pool's connect and remove events). */
  private open = 0;
  private allClosed: (() => void) | null = null;

  /** `onIdleError`: an idle connection died (server restart, admin kill); the pool replaces it. */
  readonly connections: number;

  constructor(url: string, onIdleError: (error: Error) => void, max = 10) {
    this.connections = max;
    // Every prepared statement here looks rows up by arrays of ids through indexes, a plan that
    // holds for any values. PostgreSQL's default replans a statement per execution whenever that
    // looks cheaper than its generic plan, and the append's planning (six CTEs) then cost the
    // database more than executing it: 39% of its CPU for one-message batches (perf). With the
    // default cost of a probe through an index (a random read from disk: 4× a page read in order)
    // that generic plan read the users and queues of an install of a few thousand whole for every
    // batch (a quarter of the database's CPU per message at light load); the rows a publish
    // touches are in memory, where a probe costs about what reading in order does: 1.1, the usual
    // setting for SSDs. Both are startup parameters of each connection: no statement of their
    // own, none to race the pool's first query on a new connection.
    this.pool = new pg.Pool({ connectionString: url, max, options: `-c plan_cache_mode=force_generic_plan -c random_page_cost=${RANDOM_PAGE_COST}` });
    this.pool.on('error', onIdleError);
    this.pool.on('connect', () => void this.open++);
    this.pool.on('remove', () => {
      if (--this.open === 0) this.allClosed?.();
    });
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

  /**
   * Resolves once every connection's socket has closed: the pool's own end() resolves as soon as
   * it has asked them to close, and a database dropped or restarted meanwhile then reached a
   * connection still open, which reported it as an idle connection's error after the close.
   */
  async close(): Promise<void> {
    const closed = this.open === 0 ? Promise.resolve() : new Promise<void>((resolve) => (this.allClosed = resolve));
    await this.pool.end();
    await closed;
  }
}
