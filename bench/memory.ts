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
 * Pushwire's connections authenticate as one user (a broadcast audience: one group of sockets)
 * or, with `--users each`, each as a user of its own (the per-user shape: a group, a bus
 * subscription and presence per connection).
 *
 * RSS moves with V8's heap sizing (tens of MiB between runs of the same code), so `--heap` adds
 * what `npm start` keeps alive for each connection, from heap snapshots idle and holding them:
 * the JavaScript a connection really costs, by kind, free of garbage and heap slack.
 *
 *   npm run bench:memory -- --connections 10000 --runs 3 [--transports uws,ws] [--users one|each] [--heap]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Option } from 'commander';
import WebSocket from 'ws';
import { Http } from '../test/helpers/client.js';
import { loadUws } from '../gateway/transport/uws-loader.js';
import { gatewayPids, startEmbedded, startMultiprocess } from '../test/helpers/system.js';
import { transportEnv, transportSkip, type TransportName } from '../test/helpers/transports.js';
import { benchCommand, positive } from './args.js';
import { startBaseline } from './baseline.js';
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
const settle = () => new Promise((resolve) => setTimeout(resolve, 2000));

/** What connection `i` sends to authenticate (null: nothing, bare uWS). */
type Auth = ((i: number) => string) | null;

async function open(url: string, auth: Auth, from: number, to: number): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  for (let start = from; start < to; start += 500) {
    sockets.push(...(await Promise.all(Array.from({ length: Math.min(500, to - start) }, (_, i) => new Promise<WebSocket>((resolve, reject) => {
      const socket = new WebSocket(url, { localAddress: `127.0.0.${1 + ((start + i) % 8)}`, perMessageDeflate: false });
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

async function measure(pids: () => number[], url: string, auth: Auth): Promise<PerConnection> {
  const total = () => pids().reduce((sum, pid) => sum + rss(pid), 0);
  const half = Math.floor(CONNECTIONS / 2);
  await settle();
  const before = total();
  const sockets = await open(url, auth, 0, half);
  await settle();
  const middle = total();
  sockets.push(...(await open(url, auth, half, CONNECTIONS)));
  await settle();
  const after = total();
  sockets.forEach((socket) => socket.terminate());
  await settle();
  return { idle: before, average: (after - before) / CONNECTIONS, marginal: (after - middle) / (CONNECTIONS - half) };
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

const kib = ({ average, marginal }: PerConnection) => `${(average / 1024).toFixed(2)} KiB average, ${(marginal / 1024).toFixed(2)} KiB marginal`;

/** Each run on a fresh system, so one run's garbage is not returned during the next. */
async function measureGateway(transport: TransportName): Promise<{ name: string; runs: PerConnection[] }> {
  const env = { PUSHWIRE_LOG_LEVEL: 'info', ...transportEnv(transport) };
  const runs: PerConnection[] = [];
  for (let run = 0; run < RUNS; run++) {
    const system = await startMultiprocess(env);
    try {
      const auth = await authsOf(system.apiUrl);
      const pids = await gatewayPids(system.monitorUrl);
      runs.push(await measure(() => pids, system.wsUrl, auth));
      process.stderr.write(`run ${run + 1}: gateway on ${transport} ${kib(runs[run])} per connection\n`);
    } finally {
      await system.stop();
    }
  }
  return { name: `Pushwire gateway, ${transport}`, runs };
}

/** `npm start` (every role in one process, SQLite on its own thread), each run fresh. */
async function measureEmbedded(): Promise<{ name: string; runs: PerConnection[] }> {
  const runs: PerConnection[] = [];
  for (let run = 0; run < RUNS; run++) {
    const system = await startEmbedded({ PUSHWIRE_LOG_LEVEL: 'info' });
    try {
      runs.push(await measure(() => system.pids(), system.wsUrl, await authsOf(system.apiUrl)));
      process.stderr.write(`run ${run + 1}: npm start ${kib(runs[run])} per connection, idle ${(runs[run].idle / 2 ** 20).toFixed(0)} MiB\n`);
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
    const sockets = await open(system.wsUrl, auth, 0, CONNECTIONS);
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

async function main(): Promise<void> {
  const bare: PerConnection[] = [];
  if (loadUws().uws) {
    for (let run = 0; run < RUNS; run++) {
      const baseline = await startBaseline('uws');
      bare.push(await measure(() => [baseline.pid], `ws://127.0.0.1:${baseline.port}/`, null));
      baseline.close();
      process.stderr.write(`run ${run + 1}: bare uWS ${kib(bare[run])} per connection\n`);
    }
  }
  const gateways = [await measureEmbedded()];
  for (const transport of args.transports.split(',') as TransportName[]) {
    if (transport === 'uws' && transportSkip(transport, 1)) continue;
    gateways.push(await measureGateway(transport));
  }
  const medians = (runs: PerConnection[]) => ({ idle: median(runs.map((r) => r.idle)), average: median(runs.map((r) => r.average)), marginal: median(runs.map((r) => r.marginal)) });
  const b = bare.length ? medians(bare) : null;
  const times = (value: number, base: number | undefined) => (base ? (value / base).toFixed(2) : '—');
  const row = (name: string, r: PerConnection) =>
    `| ${name} | ${(r.idle / 2 ** 20).toFixed(0)} | ${(r.average / 1024).toFixed(2)} | ${times(r.average, b?.average)} | ${(r.marginal / 1024).toFixed(2)} | ${times(r.marginal, b?.marginal)} |`;
  process.stdout.write([
    `Node ${process.version}. Medians of ${RUNS} runs, ${CONNECTIONS} idle connections (authenticated, ${args.users === 'one' ? 'on one user' : 'each its own user'}, for Pushwire), RSS growth per connection.`,
    ...(b ? [] : [`Bare uWS not run: no uWebSockets.js build loads on Node ${process.version}.`]),
    '', '| server | idle RSS MiB | average KiB | × bare uWS | marginal KiB (second half) | × bare uWS |', '|---|---:|---:|---:|---:|---:|',
    ...(b ? [row('bare uWS', b)] : []), ...gateways.map(({ name, runs }) => row(name, medians(runs))), '',
  ].join('\n'));
  if (args.heap) process.stdout.write(`\n${await measureHeap()}`);
  process.exit(0);
}

await main();
