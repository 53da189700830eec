/**
 * The per-user durable shape: every client has its own queue (topic, subject), publishers post
 * each message to one client's queue, and every delivery is checked (lost, repeated). Measures
 * messages stored and delivered per second, the server's CPU per message (run time of its
 * processes) and, apart, the CPU of the PostgreSQL backends and Redis it used, so no figure hides
 * work by moving it into the database.
 */
import { cpuSeconds } from './cpu.js';
import type { Target } from './targets.js';

export interface DurableResult {
  messagesPerSecond: number;
  publishesPerSecond: number;
  /** Server CPU per message stored and delivered, µs. */
  cpuMicros: number;
  /** PostgreSQL backends' and Redis's CPU per message, µs. */
  databaseCpuMicros: number;
  /** The load generator's own CPU per message (its publishers and clients), µs: what the machine's other core spends. */
  generatorCpuMicros: number;
  p50: number;
  p99: number;
  published: number;
  lost: number;
  duplicates: number;
}

export interface CatchUpResult {
  /** Publishes per second while storing the backlog, nobody connected. */
  storePerSecond: number;
  /** Server + database CPU per stored message while storing, µs. */
  storeCpuMicros: number;
  /** From the first connect until the last client has its whole backlog, s. */
  catchUpSeconds: number;
  /** The same clients connecting and authenticating with nothing stored, s. */
  connectSeconds: number;
  lost: number;
}

/** What a published message carries: the index that tells duplicates apart and the send time; padded to `bytes`. */
function message(index: number, bytes: number): string {
  const head = `{"title":"m","body":"${index}:${(performance.timeOrigin + performance.now()).toFixed(3)}:`;
  return `${head}${'x'.repeat(Math.max(0, bytes - head.length - 2))}"}`;
}
const PAYLOAD = /"body":"(\d+):([\d.]+):/;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Tracks what each client received: each index once, with its publish → deliver latency. */
class Receipts {
  readonly seen: Set<number>[];
  delivered = 0;
  duplicates = 0;
  lastAt = 0;
  latencies: number[] = [];

  constructor(clients: number) {
    this.seen = Array.from({ length: clients }, () => new Set());
  }

  handler(client: number): (text: string) => void {
    return (text) => {
      const found = PAYLOAD.exec(text);
      if (!found) return;
      const index = Number(found[1]);
      const now = performance.timeOrigin + performance.now();
      if (this.seen[client].has(index)) {
        this.duplicates++;
        return;
      }
      this.seen[client].add(index);
      this.delivered++;
      this.lastAt = now;
      this.latencies.push(now - Number(found[2]));
    };
  }
}

async function connectAll(target: Target, count: number, receipts: Receipts, since?: 'start') {
  const clients: { close(): void }[] = [];
  for (let start = 0; start < count; start += 200) {
    clients.push(...(await Promise.all(Array.from({ length: Math.min(200, count - start) }, (_, k) =>
      target.connect(start + k, receipts.handler(start + k), since)))));
  }
  return clients;
}

/**
 * CPU seconds spent from now until `stop()`: the server's processes, apart the databases' (read
 * again at the end, so a connection opened meanwhile counts from its start; one closed meanwhile
 * is missed), and this load generator's own.
 */
async function meter(target: Target): Promise<{ stop(): Promise<{ server: number; database: number; generator: number }> }> {
  const read = (pids: number[]) => new Map(pids.map((pid) => [pid, cpuSeconds([pid])]));
  const server = read(target.pids());
  const database = read(await target.databasePids());
  const generator = process.cpuUsage();
  const spent = (before: Map<number, number>, after: Map<number, number>) =>
    [...after].reduce((sum, [pid, seconds]) => sum + seconds - (before.get(pid) ?? 0), 0);
  return {
    stop: async () => {
      const { user, system } = process.cpuUsage(generator);
      return { server: spent(server, read(target.pids())), database: spent(database, read(await target.databasePids())), generator: (user + system) / 1e6 };
    },
  };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;

export interface DurableOptions {
  clients: number;
  seconds: number;
  /** Requests in flight. */
  concurrency: number;
  /** Messages per request (batch publish); 1 for single publishes. */
  batch: number;
  bytes: number;
  /** Messages per second to publish at; 0 for as fast as the publishers go. */
  rate: number;
}

/** One run of the per-client shape against a prepared target with its clients connected. */
export async function perClient(target: Target, options: DurableOptions): Promise<DurableResult> {
  await target.prepare(options.clients);
  const receipts = new Receipts(options.clients);
  const clients = await connectAll(target, options.clients, receipts);
  // Subscriptions travel to the bus before the first publish.
  await sleep(500);
  const cpu = await meter(target);
  const acked = new Set<number>();
  const started = performance.now();
  const until = started + options.seconds * 1000;
  let next = 0;
  await Promise.all(Array.from({ length: options.concurrency }, async () => {
    while (performance.now() < until) {
      const first = next;
      next += options.batch;
      if (options.rate > 0) {
        const wait = started + (first / options.rate) * 1000 - performance.now();
        if (wait > 0) await sleep(wait);
      }
      const indices = Array.from({ length: options.batch }, (_, k) => first + k);
      if (options.batch === 1 || !target.publishBatch) {
        for (const index of indices) {
          await target.publish(index % options.clients, message(index, options.bytes));
          acked.add(index);
        }
      } else {
        const stored = await target.publishBatch(indices.map((index) => ({ index: index % options.clients, message: message(index, options.bytes) })));
        stored.forEach((ok, k) => ok && acked.add(indices[k]));
      }
    }
  }));
  const publishedAt = performance.now();
  const deadline = Date.now() + 30_000;
  while (receipts.delivered < acked.size && Date.now() < deadline) await sleep(5);
  const spent = await cpu.stop();
  clients.forEach((client) => client.close());
  let lost = 0;
  for (const index of acked) if (!receipts.seen[index % options.clients].has(index)) lost++;
  const delivered = Math.max(1, receipts.delivered);
  const sorted = receipts.latencies.sort((a, b) => a - b);
  return {
    messagesPerSecond: receipts.delivered / ((receipts.lastAt - (performance.timeOrigin + started)) / 1000),
    publishesPerSecond: acked.size / ((publishedAt - started) / 1000),
    cpuMicros: (spent.server * 1e6) / delivered,
    databaseCpuMicros: (spent.database * 1e6) / delivered,
    generatorCpuMicros: (spent.generator * 1e6) / delivered,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    published: acked.size,
    lost,
    duplicates: receipts.duplicates,
  };
}

/**
 * Catch-up: `perClient` messages stored for each of `clients` users while nobody is connected,
 * then all connect at once asking for everything; timed until the last has its whole backlog,
 * against the same number of clients just connecting with nothing stored (destinations
 * prepared afresh, so they hold nothing).
 */
export async function catchUp(target: Target, clients: number, perClient: number, bytes: number): Promise<CatchUpResult> {
  await target.prepare(clients);
  const idle = new Receipts(clients);
  const connectStarted = performance.now();
  const idleClients = await connectAll(target, clients, idle, 'start');
  const connectSeconds = (performance.now() - connectStarted) / 1000;
  idleClients.forEach((client) => client.close());

  await target.prepare(clients);
  const cpu = await meter(target);
  const total = clients * perClient;
  let next = 0;
  const storeStarted = performance.now();
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < total) {
      const index = next++;
      await target.publish(index % clients, message(index, bytes));
    }
  }));
  const storeSeconds = (performance.now() - storeStarted) / 1000;
  const spent = await cpu.stop();
  const storeCpuMicros = ((spent.server + spent.database) * 1e6) / total;

  const receipts = new Receipts(clients);
  const started = performance.now();
  const connected = await connectAll(target, clients, receipts, 'start');
  const deadline = Date.now() + 60_000;
  while (receipts.delivered < total && Date.now() < deadline) await sleep(5);
  const catchUpSeconds = (performance.now() - started) / 1000;
  connected.forEach((client) => client.close());
  return { storePerSecond: total / storeSeconds, storeCpuMicros, catchUpSeconds, connectSeconds, lost: total - receipts.delivered };
}
