/**
 * The embedded database's own thread: PGlite (PostgreSQL compiled to WebAssembly) runs here, so
 * its CPU never blocks the event loop that serves websockets and HTTP. The main thread talks to
 * it through `PgliteDb` (db.ts) with the messages below. PGlite is one connection and orders
 * work itself: a statement outside a transaction waits until the open one ends.
 */
import { setFlagsFromString } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, type Transaction } from '@electric-sql/pglite';

// PostgreSQL's WebAssembly is compiled by V8's baseline compiler only: optimising it as well kept
// ~50 MB of compiled code and compiler memory resident, and statements ran no faster (BENCHMARKS.md,
// "Memory"). The flag is process-wide but only touches WebAssembly, and nothing else here runs any.
setFlagsFromString('--liftoff-only');

export type Request =
  | { id: number; op: 'query'; text: string; params: unknown[]; tx?: number; name?: string }
  | { id: number; op: 'exec'; text: string; tx?: number }
  | { id: number; op: 'begin'; tx: number }
  | { id: number; op: 'end'; tx: number; commit: boolean }
  | { id: number; op: 'close' };

export type Reply =
  | { id: number; ok: true; rows?: unknown[] }
  | { id: number; ok: false; error: { message: string; code?: string } };

const INT8 = 20;
const { dataDir, sharedBuffers, initOnly } = workerData as { dataDir: string; sharedBuffers: string; initOnly: boolean };
const db = await PGlite.create(dataDir, {
  parsers: { [INT8]: (value: string) => Number(value) },
  // PostgreSQL's default (128 MB) is sized for a server of its own; a push broker's hot data is
  // the last messages of the users online, and every page of it is resident memory here.
  postgresqlconf: `shared_buffers = ${sharedBuffers}\nstandard_conforming_strings = on`,
});
const port = parentPort!;
if (initOnly) {
  // A new data folder was created (initdb): WebAssembly memory never shrinks, and initdb's peak is
  // several hundred MB, so the worker that serves is a fresh one.
  await db.close();
  port.postMessage({ id: 0, ok: true } satisfies Reply);
  process.exit(0);
}

/** Open transactions: their handle, and how to end them (answering the `end` request). */
const transactions = new Map<number, { handle: Transaction; end(commit: boolean, id: number): void }>();

const failure = (id: number, error: unknown): Reply => ({ id, ok: false, error: { message: (error as Error).message, code: (error as { code?: string }).code } });

/** Opens a transaction that stays open until its `end` request; the answer to `end` waits for COMMIT (or ROLLBACK). */
function begin(request: Extract<Request, { op: 'begin' }>): void {
  let endId = -1;
  db.transaction(async (handle) => {
    const commit = await new Promise<boolean>((resolve) => {
      transactions.set(request.tx, { handle, end: (wanted, id) => { endId = id; resolve(wanted); } });
      port.postMessage({ id: request.id, ok: true } satisfies Reply);
    });
    if (!commit) await handle.rollback();
  }).then(
    () => port.postMessage({ id: endId, ok: true } satisfies Reply),
    (error: unknown) => port.postMessage(endId >= 0 ? failure(endId, error) : failure(request.id, error)),
  ).finally(() => transactions.delete(request.tx));
}

/** Refused like PostgreSQL refuses it (SQLSTATE 22021), so the store's batch isolation applies. */
const refuse = (message: string) => Object.assign(new Error(message), { code: '22021' });

/** An element of an array literal ('{…}'): quoted, with backslash escapes, as the array input syntax wants. */
function element(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number' || typeof value === 'boolean') return literal(value);
  if (typeof value === 'string') return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
  throw new TypeError(`cannot inline an array of ${typeof value}`);
}

/**
 * A value as an SQL literal, typed by the prepared statement's parameter it fills. Strings are
 * quoted with '' doubling, all the escaping there is when standard_conforming_strings is on (set
 * above). A NUL would end the statement's text early: refused instead.
 */
function literal(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw refuse(`not a finite number: ${value}`);
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) return literal(`{${value.map(element).join(',')}}`);
  if (typeof value === 'string') {
    if (value.includes('\u0000')) throw refuse('invalid byte sequence for encoding "UTF8": 0x00');
    return `'${value.replaceAll("'", "''")}'`;
  }
  throw new TypeError(`cannot inline a ${typeof value}`);
}

/** Statements prepared (or being prepared) on PGlite's one connection: concurrent first uses share one PREPARE. */
const prepared = new Map<string, Promise<unknown>>();

/**
 * The hot statements (those the store names) are prepared once and then executed through the
 * simple query protocol with their values as literals: PGlite plans a statement in WebAssembly
 * on every call otherwise, and parse, describe and bind cost more again (a one-message append:
 * 2.5 ms that way, 0.55 ms this way). Every parameter of a named statement is cast in its text,
 * so PREPARE infers the same types the bound values had.
 */
async function runPrepared(name: string, text: string, params: unknown[]): Promise<unknown[]> {
  let preparing = prepared.get(name);
  if (!preparing) {
    preparing = db.exec(`PREPARE ${name} AS ${text}`);
    prepared.set(name, preparing);
    preparing.catch(() => prepared.delete(name));
  }
  await preparing;
  const [result] = await db.exec(`EXECUTE ${name}(${params.map(literal).join(', ')})`);
  return result?.rows ?? [];
}

async function run(request: Request): Promise<Reply | null> {
  switch (request.op) {
    case 'query': {
      if (request.name && request.tx === undefined) return { id: request.id, ok: true, rows: await runPrepared(request.name, request.text, request.params) };
      const target = request.tx === undefined ? db : transactions.get(request.tx)!.handle;
      return { id: request.id, ok: true, rows: (await target.query(request.text, request.params)).rows };
    }
    case 'exec':
      await (request.tx === undefined ? db : transactions.get(request.tx)!.handle).exec(request.text);
      return { id: request.id, ok: true };
    case 'begin':
      begin(request);
      return null;
    case 'end':
      transactions.get(request.tx)!.end(request.commit, request.id);
      return null;
    case 'close':
      await db.close();
      return { id: request.id, ok: true };
  }
}

port.on('message', (request: Request) => {
  run(request).then((answer) => answer && port.postMessage(answer), (error: unknown) => port.postMessage(failure(request.id, error)));
});
port.postMessage({ id: 0, ok: true } satisfies Reply);
