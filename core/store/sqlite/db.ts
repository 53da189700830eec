import Database from 'better-sqlite3';

/**
 * One SQLite database file, opened by the one thread that uses it (the embedded store's worker,
 * or a test). Statements are prepared once per text and kept: preparing costs more than running
 * the hot ones.
 */
export class Sqlite {
  readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly rawStatements = new Map<string, Database.Statement>();

  constructor(file: string) {
    this.db = new Database(file);
    // WAL: a commit appends to one file and readers never block the writer. synchronous FULL: a
    // commit is on disk (fsync) when it returns, so an acknowledged message survives a power cut,
    // not only a killed process.
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    // A checkpoint copies the WAL's pages into the database and fsyncs it; every 10,000 pages
    // (~40 MB) instead of SQLite's 1,000, a page rewritten by many commits (a busy user's rows,
    // the expiry index's last page) is copied once per checkpoint: a fifth less CPU per append.
    this.db.pragma('wal_autocheckpoint = 10000');
    this.db.pragma('foreign_keys = ON');
    // Each connection's page cache is resident memory: 8 MB holds the recent messages of the users
    // online (catch-up reads them), the rest stays in the operating system's cache.
    this.db.pragma('cache_size = -8192');
  }

  statement(text: string): Database.Statement {
    return this.prepared(this.statements, text, false);
  }

  run(text: string, ...params: unknown[]): Database.RunResult {
    return this.statement(text).run(...params);
  }

  /** The rows as arrays of their columns' values, in the statement's order: no object per row. */
  rows<T extends unknown[]>(text: string, ...params: unknown[]): T[] {
    return this.prepared(this.rawStatements, text, true).all(...params) as T[];
  }

  get<T>(text: string, ...params: unknown[]): T | undefined {
    return this.statement(text).get(...params) as T | undefined;
  }

  all<T>(text: string, ...params: unknown[]): T[] {
    return this.statement(text).all(...params) as T[];
  }

  /**
   * Runs the reads of `work` in one read transaction: a statement outside one begins and ends its
   * own, taking and dropping the WAL's read lock each time (system calls); a batch of a thousand
   * lookups takes it once.
   */
  snapshot<T>(work: () => T): T {
    return this.db.transaction(work).deferred();
  }

  /** Runs `work` in one transaction (a savepoint when one is open already). */
  transaction<T>(work: () => T): T {
    return this.db.transaction(work)();
  }

  /** A statement prepared once per text; raw ones (rows as arrays) apart, as the mode is the statement's. */
  private prepared(cache: Map<string, Database.Statement>, text: string, raw: boolean): Database.Statement {
    let statement = cache.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      if (raw) statement.raw(true);
      cache.set(text, statement);
    }
    return statement;
  }

  close(): void {
    this.db.close();
  }
}

/** A timestamp column's value: ISO 8601 text, which sorts as time does. */
export const isoNow = (): string => new Date().toISOString();
