/**
 * `npm run bench:memory`: resident memory idle and per idle websocket connection, of `npm start`
 * and of Pushwire's gateway on each transport that runs here, against a bare uWebSockets.js
 * server, all in their own processes, with the same clients. The gateways run in circus.ini's layout, with one gateway
 * process where the transport cannot share a port on this Node.
 * RSS is read from /proc before, half-way and after opening the connections (medians of
 * several runs). Two figures: the average (all growth over all connections, fixed costs such
 * as V8's young generation included) and the marginal cost (growth over the second half
 * only), which is what the next connection costs and so what bounds a large gateway.
 *
 * Each reading is taken twice: 2 s after the connections opened, as V8 sized its heap, and at
 * rest, after a full collection in every server measured (bare uWS too), through its inspector.
 * The first moves with V8's heap sizing by tens of MiB between runs of the same code, more than
 * the connections' whole cost; at rest, each server holds what it keeps.
 *
 * Pushwire's connections authenticate as one user (a broadcast audience: one group of sockets),
 * against bare uWS with every socket on one topic; or, with `--users each`, each as a user of
 * its own (the per-user shape), against bare uWS with a topic per socket, the baseline of the
 * per-user benchmarks (bare uWS on one topic is shown too).
 *
 * `--heap` adds what `npm start` keeps alive for each connection, from heap snapshots idle and
 * holding them: the JavaScript a connection really costs, by kind.
 *
 *   npm run bench:memory -- --connections 10000 --runs 3 [--transports uws,ws] [--users one|each] [--heap]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Option } from 'commander';
import WebSocket from 'ws';
import { Http, sleep } from '../test/helpers/client.js';
import { loadUws } from '../gateway/transport/uws-loader.js';
import { gatewayPids, startEmbedded, startMultiprocess } from '../test/helpers/system.js';
import { transportEnv, transportSkip, type TransportName } from '../test/helpers/transports.js';
import { benchCommand, positive } from './args.js';
import { startBaseline } from './baseline.js';
import { collectGarbage } from './collect-garbage.js';
import { heapCensus, perItem, takeSnapshot } from './heap-census.js';
import { inParallel } from './targets.js';

const args = benchCommand('bench:memory', 'Resident memory idle and per idle websocket: npm start and the gateway on each transport, against bare uWebSockets.js.')
  .option('--connections <n>', 'idle websockets to open', positive, 10000)
  .option('--runs <n>', 'runs; the table shows medians', positive, 3)
  .option('--transports <list>', 'gateway transports, comma-separated (uws, ws)', 'uws,ws')
  .addOption(new Option('--users <who>', "Pushwire's connections: all one user's, or each a user of its own").choices(['one', 'each']).default('one'))
  .option('--heap', "also the live JavaScript per connection of npm start, from heap snapshots (one more run; two snapshots of ~100 MiB)", false)
  .parse()
  .opts<{ connections: number; runs: number; transports: string; users: 'one' | 'each'; heap: boolean }>();
const CONNECTIONS = args.connections;
const RUNS = args.runs;

const rss = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
/** Every server measured runs an inspector on a port of its own, for `collectGarbage`. */
const INSPECTED = '--inspect=127.0.0.1:0';

/** What connection `i` sends to authenticate (null: nothing, bare uWS). */
type Auth = ((i: number) => string) | null;
/** Where connection `i` connects. */
type Url = (i: number) => string;

async function open(url: Url, auth: Auth, from: number, to: number): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  for (let start = from; start < to; start += 500) {
    sockets.push(...(await Promise.all(Array.from({ length: Math.min(500, to - start) }, (_, i) => new Promise<WebSocket>((resolve, reject) => {
      const socket = new WebSocket(url(start + i), { localAddress: `127.0.0.${1 + ((start + i) % 8)}`, perMessageDeflate: false });
      socket.on('error', reject);
      if (auth === null) socket.on('open', () => resolve(socket));
      else {
        socket.on('open', () => socket.send(auth(start + i)));
        socket.on('message', (data) => (data.toString().startsWith('{"type":"hello"') ? resolve(socket) : undefined));
      }
    })))));
  }
  return sockets;
}

interface PerConnection {
  /** RSS before any connection (the server idle), bytes. */
  idle: number;
  average: number;
  marginal: number;
}

/** A run's figures: 2 s after opening, as V8 sized its heap, and at rest, after a full collection. */
interface Run {
  sized: PerConnection;
  rest: PerConnection;
}

async function measure(pids: () => number[], url: Url, auth: Auth): Promise<Run> {
  const total = () => pids().reduce((sum, pid) => sum + rss(pid), 0);
  /** RSS 2 s from now, and then after a full collection in each process. */
  const read = async () => {
    await sleep(2000);
    const sized = total();
    await Promise.all(pids().map((pid) => collectGarbage(pid)));
    await sleep(500);
    return { sized, rest: total() };
  };
  const half = Math.floor(CONNECTIONS / 2);
  const before = await read();
  const sockets = await open(url, auth, 0, half);
  const middle = await read();
  sockets.push(...(await open(url, auth, half, CONNECTIONS)));
  const after = await read();
  sockets.forEach((socket) => socket.terminate());
  await sleep(2000);
  const perConnection = (at: 'sized' | 'rest'): PerConnection => ({
    idle: before[at], average: (after[at] - before[at]) / CONNECTIONS, marginal: (after[at] - middle[at]) / (CONNECTIONS - half),
  });
  return { sized: perConnection('sized'), rest: perConnection('rest') };
}

/** The auth frames of `CONNECTIONS` connections: one user's token for all, or a user of its own for each. */
async function authsOf(apiUrl: string): Promise<(i: number) => string> {
  const http = new Http(apiUrl);
  if (args.users === 'one') {
    const frame = JSON.stringify({ token: (await http.user()).token });
    return () => frame;
  }
  const frames: string[] = new Array(CONNECTIONS);
  await inParallel(CONNECTIONS, 32, async (index) => {
    frames[index] = JSON.stringify({ token: (await http.request<{ token: string }>('POST', '/token/')).body.token });
  });
  return (i) => frames[i];
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const kib = ({ sized, rest }: Run) =>
  `at rest ${(rest.average / 1024).toFixed(2)} KiB average, ${(rest.marginal / 1024).toFixed(2)} KiB marginal; as sized ${(sized.average / 1024).toFixed(2)} / ${(sized.marginal / 1024).toFixed(2)}`;

/** Each run on a fresh system, so one run's garbage is not returned during the next. */
async function measureGateway(transport: TransportName): Promise<{ name: string; runs: Run[] }> {
  const env = { PUSHWIRE_LOG_LEVEL: 'info', NODE_OPTIONS: INSPECTED, ...transportEnv(transport) };
  const runs: Run[] = [];
  for (let run = 0; run < RUNS; run++) {
    const system = await startMultiprocess(env);
    try {
      const auth = await authsOf(system.apiUrl);
      const pids = await gatewayPids(system.monitorUrl);
      runs.push(await measure(() => pids, () => system.wsUrl, auth));
      process.stderr.write(`run ${run + 1}: gateway on ${transport} ${kib(runs[run])} per connection\n`);
    } finally {
      await system.stop();
    }
  }
  return { name: `Pushwire gateway, ${transport}`, runs };
}

/** `npm start` (every role in one process, SQLite on its own thread), each run fresh. */
async function measureEmbedded(): Promise<{ name: string; runs: Run[] }> {
  const runs: Run[] = [];
  for (let run = 0; run < RUNS; run++) {
    const system = await startEmbedded({ PUSHWIRE_LOG_LEVEL: 'info', NODE_OPTIONS: INSPECTED });
    try {
      runs.push(await measure(() => system.pids(), () => system.wsUrl, await authsOf(system.apiUrl)));
      process.stderr.write(`run ${run + 1}: npm start ${kib(runs[run])} per connection, idle ${(runs[run].sized.idle / 2 ** 20).toFixed(0)} MiB\n`);
    } finally {
      await system.stop();
    }
  }
  return { name: 'Pushwire `npm start` (every role, SQLite)', runs };
}

/** The live JavaScript `npm start` keeps per connection: heap snapshots idle (tokens made) and holding the connections. */
async function measureHeap(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'pushwire-heap-'));
  const system = await startEmbedded({ PUSHWIRE_LOG_LEVEL: 'info', NODE_OPTIONS: `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${dir}` });
  try {
    const [pid] = system.pids();
    const answers = () => fetch(`${system.apiUrl}/metrics`);
    const auth = await authsOf(system.apiUrl);
    const idle = heapCensus(await takeSnapshot(pid, dir, answers));
    const sockets = await open(() => system.wsUrl, auth, 0, CONNECTIONS);
    // Past the store checks that follow each new subscription (the last at 1 s): what is left is what a connection keeps.
    await sleep(3000);
    const held = heapCensus(await takeSnapshot(pid, dir, answers));
    sockets.forEach((socket) => socket.terminate());
    const { bytes, kinds } = perItem(idle, held, CONNECTIONS, 10);
    return [
      `Live JavaScript of \`npm start\` per connection (heap snapshots idle and holding ${CONNECTIONS}, ${args.users === 'one' ? 'one user' : 'each its own user'}): ${bytes.toFixed(0)} bytes. The largest kinds:`,
      '', '| kind | per connection | bytes |', '|---|---:|---:|',
      ...kinds.map(({ kind, count, bytes }) => `| ${kind.replaceAll('|', '\\|')} | ${count.toFixed(2)} | ${bytes.toFixed(0)} |`), '',
    ].join('\n');
  } finally {
    await system.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Bare uWS, each run fresh: every socket on one topic, or (`topicEach`) a topic per socket. */
async function measureBare(topicEach: boolean): Promise<{ name: string; runs: Run[] }> {
  const runs: Run[] = [];
  for (let run = 0; run < RUNS; run++) {
    const baseline = await startBaseline(topicEach ? 'uws-topics' : 'uws', INSPECTED);
    try {
      const url: Url = topicEach ? (i) => `ws://127.0.0.1:${baseline.port}/?id=${i}` : () => `ws://127.0.0.1:${baseline.port}/`;
      runs.push(await measure(() => [baseline.pid], url, null));
    } finally {
      baseline.close();
    }
    process.stderr.write(`run ${run + 1}: bare uWS${topicEach ? ', a topic per socket' : ''} ${kib(runs[run])} per connection\n`);
  }
  return { name: topicEach ? 'bare uWS, a topic per socket' : 'bare uWS, one topic', runs };
}

async function main(): Promise<void> {
  const bare: { name: string; runs: Run[] }[] = [];
  if (loadUws().uws) {
    // The baseline of the shape measured first: the ratios are against it.
    if (args.users === 'each') bare.push(await measureBare(true));
    bare.push(await measureBare(false));
  }
  const gateways = [await measureEmbedded()];
  for (const transport of args.transports.split(',') as TransportName[]) {
    if (transport === 'uws' && transportSkip(transport, 1)) continue;
    gateways.push(await measureGateway(transport));
  }
  const medians = (runs: PerConnection[]): PerConnection => ({ idle: median(runs.map((r) => r.idle)), average: median(runs.map((r) => r.average)), marginal: median(runs.map((r) => r.marginal)) });
  const times = (value: number, base: number | undefined) => (base ? (value / base).toFixed(2) : '—');
  const table = (at: keyof Run, title: string) => {
    const base = bare.length ? medians(bare[0].runs.map((run) => run[at])) : null;
    const row = ({ name, runs }: { name: string; runs: Run[] }) => {
      const r = medians(runs.map((run) => run[at]));
      return `| ${name} | ${(r.idle / 2 ** 20).toFixed(0)} | ${(r.average / 1024).toFixed(2)} | ${times(r.average, base?.average)} | ${(r.marginal / 1024).toFixed(2)} | ${times(r.marginal, base?.marginal)} |`;
    };
    return [
      title, '', '| server | idle RSS MiB | average KiB | × bare uWS | marginal KiB (second half) | × bare uWS |', '|---|---:|---:|---:|---:|---:|',
      ...[...bare, ...gateways].map(row), '',
    ];
  };
  process.stdout.write([
    `Node ${process.version}. Medians of ${RUNS} runs, ${CONNECTIONS} idle connections (authenticated, ${args.users === 'one' ? 'on one user' : 'each its own user'}, for Pushwire), RSS growth per connection.`,
    ...(bare.length ? [`Ratios against ${bare[0].name}.`] : [`Bare uWS not run: no uWebSockets.js build loads on Node ${process.version}.`]), '',
    ...table('rest', 'At rest: after a full collection in every server.'),
    ...table('sized', "2 s after opening, as V8 sized its heap (moves by tens of MiB between runs of the same code)."),
  ].join('\n'));
  if (args.heap) process.stdout.write(`\n${await measureHeap()}`);
  process.exit(0);
}

await main();
