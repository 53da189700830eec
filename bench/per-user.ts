/**
 * The per-user durable section of `npm run bench`: every client on its own queue, on bare uWS
 * with a topic per client (the ceiling, not durable), bare uWS storing in PostgreSQL (the durable
 * floor: what durability alone costs), NATS JetStream (the durable peer) and Pushwire's layouts,
 * all in the same run. Servers on core 0, the load generator on core 1.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startEmbedded, startMultiprocess } from '../test/helpers/system.js';
import { pin, SERVER_CORE } from './cpu.js';
import { catchUp, perClient, type CatchUpResult, type DurableResult } from './durable.js';
import { jetStreamSkip } from './jetstream.js';
import { bareUwsTopics, durableFloor, jetStream, pushwire, type Target } from './targets.js';

export interface PerUserArgs {
  runs: number;
  clients: number;
  seconds: number;
  /** Unmeasured seconds of the peak load before measuring, for every system alike. */
  warmUpSeconds: number;
  concurrency: number;
  bytes: number;
  batchClients: number;
  batch: number;
  catchUpClients: number;
  catchUpMessages: number;
  only: string;
}

interface System {
  name: string;
  start(): Promise<Target>;
  durable: boolean;
  /** Has batch publish. */
  batch: boolean;
}

const BARE = 'bare uWS, a topic per client (not durable)';
const FLOOR = 'bare uWS + PostgreSQL (the durable floor: store, deliver, acknowledge)';
const JETSTREAM = 'NATS JetStream (file storage, acked publish, websocket consumers)';

/**
 * The product's own defaults where the test systems shorten them: a store check every 2 s is test
 * pacing, not product cost, and a 1 s authentication deadline closes clients of a busy server.
 */
const DEFAULTS = { PUSHWIRE_RESYNC_MS: '10000', PUSHWIRE_AUTH_TIMEOUT_MS: '5000' };

const systems: System[] = [
  { name: BARE, start: bareUwsTopics, durable: false, batch: false },
  { name: FLOOR, start: durableFloor, durable: false, batch: false },
  ...(jetStreamSkip() ? [] : [{ name: JETSTREAM, start: jetStream, durable: true, batch: false }]),
  { name: 'Pushwire npm start (SQLite)', start: async () => pushwire('Pushwire npm start (SQLite)', await startEmbedded(DEFAULTS)), durable: true, batch: true },
  { name: 'Pushwire, all roles in one process, PostgreSQL + Redis', start: async () => pushwire('', await startEmbedded(DEFAULTS, { store: 'postgres' })), durable: true, batch: true },
  { name: 'Pushwire, circus.ini processes, PostgreSQL + Redis', start: async () => pushwire('', await startMultiprocess(DEFAULTS)), durable: true, batch: true },
];

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** What one run measures of one system. */
export interface Measured {
  peak: DurableResult;
  half: DurableResult;
  batched?: DurableResult;
  catchUp?: CatchUpResult;
}

const log = (what: string, name: string, r: DurableResult) => process.stderr.write(
  `${what}, ${name}: ${Math.round(r.messagesPerSecond)} msg/s, ${r.cpuMicros.toFixed(1)} µs server + ${r.databaseCpuMicros.toFixed(1)} µs database + ${r.generatorCpuMicros.toFixed(1)} µs load generator CPU each, p99 ${r.p99.toFixed(1)} ms, lost ${r.lost}, repeated ${r.duplicates}\n`);

/** One run of one system, from its start to its stop, driven from this process (the load generator). */
export async function measure(name: string, args: PerUserArgs): Promise<Measured> {
  const system = systems.find((candidate) => candidate.name === name);
  if (!system) throw new Error(`no system named ${name}`);
  const options = { concurrency: args.concurrency, bytes: args.bytes };
  const target = await system.start();
  try {
    for (const pid of target.pids()) pin(pid, SERVER_CORE);
    // Steady state, not a JIT's first compiles: a cold Node server spends several times its warm CPU per message at first.
    if (args.warmUpSeconds > 0) await perClient(target, { ...options, clients: args.clients, seconds: args.warmUpSeconds, batch: 1, rate: 0 });
    const peak = await perClient(target, { ...options, clients: args.clients, seconds: args.seconds, batch: 1, rate: 0 });
    log('per client', name, peak);
    const half = await perClient(target, { ...options, clients: args.clients, seconds: args.seconds, batch: 1, rate: peak.messagesPerSecond / 2 });
    log('half rate', name, half);
    const measured: Measured = { peak, half };
    if (system.batch) {
      measured.batched = await perClient(target, { ...options, clients: args.batchClients, seconds: args.seconds, batch: args.batch, rate: 0, concurrency: 4 });
      log(`batches of ${args.batch}`, name, measured.batched);
    }
    if (system.durable) {
      const result = measured.catchUp = await catchUp(target, args.catchUpClients, args.catchUpMessages, args.bytes);
      process.stderr.write(`catch-up, ${name}: stored ${Math.round(result.storePerSecond)}/s at ${result.storeCpuMicros.toFixed(1)} µs; backlog in ${result.catchUpSeconds.toFixed(2)} s vs connect ${result.connectSeconds.toFixed(2)} s, lost ${result.lost}\n`);
    }
    return measured;
  } finally {
    await target.close();
  }
}

/**
 * Each run of each system gets a load generator process of its own: run in the one process
 * after the others, a system met a generator slowed by what they left (after JetStream's run the
 * generator's heap held 140 MB, and Pushwire measured 5,903 msg/s instead of 7,297: its generator
 * spent 56 µs a message instead of 46).
 */
function measureInFreshProcess(name: string, args: PerUserArgs): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const worker = fork(fileURLToPath(new URL('./per-user-run.js', import.meta.url)), [name, JSON.stringify(args)], { stdio: 'inherit' });
    let measured: Measured | null = null;
    worker.on('message', (message) => void (measured = message as Measured));
    worker.on('error', reject);
    worker.on('exit', (code) => (measured ? resolve(measured) : reject(new Error(`measuring ${name} failed (exit code ${code})`))));
  });
}

export async function perUserSection(args: PerUserArgs): Promise<string> {
  const skipped = jetStreamSkip();
  const chosen = systems.filter((system) => system.name === BARE || system.name === FLOOR || system.name === JETSTREAM || system.name.includes(args.only));
  const single: Record<string, DurableResult[]> = {};
  const halfRate: Record<string, DurableResult[]> = {};
  const batched: Record<string, DurableResult[]> = {};
  const catchUps: Record<string, CatchUpResult[]> = {};
  for (let run = 0; run < args.runs; run++) {
    for (const system of chosen) {
      const measured = await measureInFreshProcess(system.name, args);
      (single[system.name] ??= []).push(measured.peak);
      (halfRate[system.name] ??= []).push(measured.half);
      if (measured.batched) (batched[system.name] ??= []).push(measured.batched);
      if (measured.catchUp) (catchUps[system.name] ??= []).push(measured.catchUp);
    }
  }
  const of = <T>(rows: Record<string, T[]>, name: string, field: keyof T) => (rows[name] ? median(rows[name].map((r) => r[field] as number)) : NaN);
  /** The median of values and, with several, their range: how far the runs of one system spread. */
  const spread = (values: number[]) => (values.length === 0 ? '—'
    : values.length === 1 ? values[0].toFixed(2) : `${median(values).toFixed(2)} (${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)})`);
  /**
   * `name`'s msg/s against `base`'s, run by run: each run measures every system afresh, minutes
   * apart, on a machine whose speed drifts by a third, so a ratio holds within a run.
   */
  const ratio = (name: string, base: string) => (name === base ? '1.00' : spread((single[name] ?? [])
    .map((result, run) => result.messagesPerSecond / (single[base]?.[run]?.messagesPerSecond ?? NaN)).filter(Number.isFinite)));
  const total = (rows: Record<string, DurableResult[]>, name: string, field: 'lost' | 'duplicates') => rows[name].reduce((sum, r) => sum + r[field], 0);
  const lines = [
    `Per-user queues: ${args.clients} clients each on its own queue, ${args.concurrency} single publishes in flight, ${args.bytes}-byte messages, ${args.seconds} s after ${args.warmUpSeconds} s unmeasured at the same load, every delivery checked. `
      + 'Ratios: each run against the same run\'s baseline, their median (and range). Server CPU: run time of the server\'s processes (every thread, from /proc) per message stored and delivered; database CPU: the PostgreSQL backends and Redis it used (embedded SQLite runs inside the server process); generator: the load generator\'s own (on the other core).',
    ...(skipped ? ['', `NATS JetStream not run: ${skipped}.`] : []),
    '',
    '| system | msg/s | × bare uWS | × durable floor | × JetStream | server CPU µs/msg | + database µs/msg | generator µs/msg | p50 ms | p99 ms | p99 ms at half rate | lost | repeated |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const name of Object.keys(single)) {
    const rate = of(single, name, 'messagesPerSecond');
    lines.push(`| ${name} | ${Math.round(rate)} | ${ratio(name, BARE)} | ${ratio(name, FLOOR)} | ${ratio(name, JETSTREAM)} `
      + `| ${of(single, name, 'cpuMicros').toFixed(1)} | ${of(single, name, 'databaseCpuMicros').toFixed(1)} | ${of(single, name, 'generatorCpuMicros').toFixed(1)} | ${of(single, name, 'p50').toFixed(1)} | ${of(single, name, 'p99').toFixed(1)} `
      + `| ${of(halfRate, name, 'p99').toFixed(1)} | ${total(single, name, 'lost') + total(halfRate, name, 'lost')} | ${total(single, name, 'duplicates') + total(halfRate, name, 'duplicates')} |`);
  }
  lines.push('', `Batch publish: ${args.batchClients} clients each on its own queue, batches of ${args.batch} (4 requests in flight), ${args.seconds} s.`, '',
    '| system | msg/s stored + delivered | server CPU µs/msg | + database µs/msg | generator µs/msg | p50 ms | p99 ms | lost | repeated |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const name of Object.keys(batched)) {
    lines.push(`| ${name} | ${Math.round(of(batched, name, 'messagesPerSecond'))} | ${of(batched, name, 'cpuMicros').toFixed(1)} | ${of(batched, name, 'databaseCpuMicros').toFixed(1)} | ${of(batched, name, 'generatorCpuMicros').toFixed(1)} `
      + `| ${of(batched, name, 'p50').toFixed(1)} | ${of(batched, name, 'p99').toFixed(1)} | ${total(batched, name, 'lost')} | ${total(batched, name, 'duplicates')} |`);
  }
  lines.push('', `Catch-up: ${args.catchUpMessages} messages stored for each of ${args.catchUpClients} users with nobody connected (32 publishes in flight), then all connect asking for everything.`, '',
    '| system | stored/s | CPU µs/stored (server + database) | last backlog complete, s | connect + auth alone, s | ratio (median of per-run ratios, range) | lost |', '|---|---:|---:|---:|---:|---:|---:|');
  for (const name of Object.keys(catchUps)) {
    // Each run's two timings come from the same fresh system: the ratio is taken per run, then its median.
    const ratios = spread(catchUps[name].map((r) => r.catchUpSeconds / r.connectSeconds));
    lines.push(`| ${name} | ${Math.round(of(catchUps, name, 'storePerSecond'))} | ${of(catchUps, name, 'storeCpuMicros').toFixed(1)} | ${of(catchUps, name, 'catchUpSeconds').toFixed(2)} | ${of(catchUps, name, 'connectSeconds').toFixed(2)} | ${ratios} | ${catchUps[name].reduce((sum, r) => sum + r.lost, 0)} |`);
  }
  return lines.join('\n');
}
