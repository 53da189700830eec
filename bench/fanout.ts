/**
 * `npm run bench`: delivery throughput, latency and server CPU per delivery of the full path
 * (HTTP publish → store → bus → gateway → websocket) on this machine, on each gateway transport
 * that runs here (native uWS, ws on node:http), against a bare uWebSockets.js pub/sub server
 * and Socket.IO driven by the same load generator in the same run. Servers run on core 0, the
 * load generator on core 1. Prints a markdown table of medians.
 *
 *   npm run bench -- --runs 3 --clients 1000 --messages 3000 [--only embedded]
 */
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { io as connectSocketIo, type Socket } from 'socket.io-client';
import { loadUws } from '../gateway/transport/uws-loader.js';
import { Http } from '../test/helpers/client.js';
import { startEmbedded, startMultiprocess, type System } from '../test/helpers/system.js';
import { transportEnv, transportSkip, type TransportName } from '../test/helpers/transports.js';
import { startBaseline } from './baseline.js';
import { cpuSeconds, LOAD_CORE, pin, SERVER_CORE } from './cpu.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    clients: { type: 'string', default: '1000' },
    messages: { type: 'string', default: '3000' },
    fanout: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '32' },
    /** Only the systems whose name holds this (e.g. `embedded`, `ws`); the baselines always run. */
    only: { type: 'string', default: '' },
  },
});
const RUNS = Number(args.runs);
const CLIENTS = Number(args.clients);
const MESSAGES = Number(args.messages);
const FANOUT_MESSAGES = Number(args.fanout);
const CONCURRENCY = Number(args.concurrency);

const SENT_AT = /"body":"([\d.]+)"/;

interface Result {
  deliveriesPerSecond: number;
  /** Server CPU (utime + stime of its processes) per delivery, µs. */
  cpuMicros: number;
  publishesPerSecond: number;
  p50: number;
  p99: number;
  lost: number;
}

/** Opens sockets; each counts deliveries and records publish→deliver latency from the send time posted as `body`. */
async function openClients(wsUrl: string, auths: (string | null)[], latencies: number[], counter: { delivered: number }): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  for (let start = 0; start < auths.length; start += 100) {
    sockets.push(...(await Promise.all(auths.slice(start, start + 100).map((auth) => new Promise<WebSocket>((resolve, reject) => {
      const socket = new WebSocket(wsUrl);
      socket.on('message', (data) => {
        // Cheap on purpose: the load generator shares the machine, so it reads only the send
        // time, posted as the message's `body`.
        const text = data.toString();
        if (text.startsWith('{"type":"hello"')) return resolve(socket);
        const sentAt = SENT_AT.exec(text);
        if (!sentAt) return;
        counter.delivered++;
        latencies.push(performance.timeOrigin + performance.now() - Number(sentAt[1]));
      });
      socket.on('open', () => (auth ? socket.send(JSON.stringify({ token: auth })) : resolve(socket)));
      socket.on('error', reject);
    })))));
  }
  return sockets;
}

/** Posts `count` messages with bounded concurrency; `target(i)` picks the URL. */
async function publishAll(count: number, target: (i: number) => string): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < count) {
      const i = next++;
      const response = await fetch(target(i), {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ title: `m${i}`, body: String(performance.timeOrigin + performance.now()) }),
      });
      if (!response.ok) throw new Error(`publish ${response.status}`);
      await response.arrayBuffer();
    }
  }));
  return count / ((performance.now() - started) / 1000);
}

async function measure(pids: number[], expected: number, counter: { delivered: number }, latencies: number[], publish: () => Promise<number>): Promise<Result> {
  const cpuBefore = cpuSeconds(pids);
  const started = performance.now();
  const publishesPerSecond = await publish();
  const deadline = Date.now() + 30_000;
  while (counter.delivered < expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  const seconds = (performance.now() - started) / 1000;
  const cpuMicros = ((cpuSeconds(pids) - cpuBefore) * 1e6) / Math.max(1, counter.delivered);
  const sorted = [...latencies].sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
  return { deliveriesPerSecond: counter.delivered / seconds, cpuMicros, publishesPerSecond, p50: pct(0.5), p99: pct(0.99), lost: expected - counter.delivered };
}

/** CLIENTS users with one socket each; MESSAGES spread over them. */
async function manyUsers(system: System): Promise<Result> {
  const http = new Http(system.apiUrl);
  const users: { token: string; queue: string }[] = [];
  for (let i = 0; i < CLIENTS; i++) users.push(await http.user());
  const latencies: number[] = [];
  const counter = { delivered: 0 };
  const sockets = await openClients(system.wsUrl, users.map((u) => u.token), latencies, counter);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const result = await measure(system.pids(), MESSAGES, counter, latencies, () => publishAll(MESSAGES, (i) => users[i % users.length].queue));
  sockets.forEach((socket) => socket.terminate());
  return result;
}

/** One user with CLIENTS sockets; every message goes to all of them. */
async function fanOut(system: System): Promise<Result> {
  const { token, queue } = await new Http(system.apiUrl).user();
  const latencies: number[] = [];
  const counter = { delivered: 0 };
  const sockets = await openClients(system.wsUrl, Array(CLIENTS).fill(token), latencies, counter);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const result = await measure(system.pids(), FANOUT_MESSAGES * CLIENTS, counter, latencies, () => publishAll(FANOUT_MESSAGES, () => queue));
  sockets.forEach((socket) => socket.terminate());
  return result;
}

async function bareFanOut(): Promise<Result> {
  const bare = await startBaseline('uws');
  pin(bare.pid, SERVER_CORE);
  const latencies: number[] = [];
  const counter = { delivered: 0 };
  const sockets = await openClients(`ws://127.0.0.1:${bare.port}/`, Array(CLIENTS).fill(null), latencies, counter);
  const result = await measure([bare.pid], FANOUT_MESSAGES * CLIENTS, counter, latencies, () => publishAll(FANOUT_MESSAGES, () => `${bare.url}/publish`));
  sockets.forEach((socket) => socket.terminate());
  bare.close();
  return result;
}

/** Socket.IO clients (websocket transport) of the Socket.IO baseline, reading the same frames. */
async function socketIoFanOut(): Promise<Result> {
  const server = await startBaseline('socketio');
  pin(server.pid, SERVER_CORE);
  const latencies: number[] = [];
  const counter = { delivered: 0 };
  const sockets: Socket[] = [];
  for (let i = 0; i < CLIENTS; i++) {
    const socket = connectSocketIo(server.url, { transports: ['websocket'], forceNew: true });
    socket.on('message', (text: string) => {
      const sentAt = SENT_AT.exec(text);
      if (!sentAt) return;
      counter.delivered++;
      latencies.push(performance.timeOrigin + performance.now() - Number(sentAt[1]));
    });
    sockets.push(socket);
  }
  await Promise.all(sockets.map((socket) => (socket.connected ? null : new Promise((resolve) => socket.once('connect', () => resolve(null))))));
  await new Promise((resolve) => setTimeout(resolve, 500));
  const result = await measure([server.pid], FANOUT_MESSAGES * CLIENTS, counter, latencies, () => publishAll(FANOUT_MESSAGES, () => `${server.url}/publish`));
  sockets.forEach((socket) => socket.disconnect());
  server.close();
  return result;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const BARE = 'bare uWS fan-out (baseline)';
const SOCKET_IO = 'Socket.IO fan-out (baseline)';

async function main(): Promise<void> {
  pin(process.pid, LOAD_CORE);
  const bareRuns = loadUws().uws !== null;
  const layouts = [['embedded', startEmbedded], ['multi-process', startMultiprocess]] as const;
  const systems = (['uws', 'ws'] as TransportName[]).flatMap((transport) => layouts.map(([layout, start]) => {
    const skip = transportSkip(transport, layout === 'embedded' ? 'embedded' : 'multiprocess');
    if (skip) process.stderr.write(`${layout} on ${transport}: not run (${skip})\n`);
    return skip ? [] : [{ name: `${layout}, ${transport}`, start: () => start(transportEnv(transport)) }];
  }).flat()).filter(({ name }) => name.includes(args.only));
  const rows: Record<string, Result[]> = {};
  const record = (name: string, result: Result) => {
    (rows[name] ??= []).push(result);
    process.stderr.write(`${name}: ${Math.round(result.deliveriesPerSecond)} deliveries/s, ${result.cpuMicros.toFixed(1)} µs CPU each, p99 ${result.p99.toFixed(1)} ms, lost ${result.lost}\n`);
  };
  for (let run = 0; run < RUNS; run++) {
    if (bareRuns) record(BARE, await bareFanOut());
    record(SOCKET_IO, await socketIoFanOut());
    for (const { name, start } of systems) {
      const system = await start();
      try {
        for (const pid of system.pids()) pin(pid, SERVER_CORE);
        record(`${name}: fan-out, 1 user × ${CLIENTS} sockets`, await fanOut(system));
        record(`${name}: ${CLIENTS} users × 1 socket`, await manyUsers(system));
      } finally {
        await system.stop();
      }
    }
  }
  const medianOf = (name: string, field: keyof Result) => (rows[name] ? median(rows[name].map((r) => r[field])) : NaN);
  const ratio = (value: number, base: number) => (Number.isFinite(base) ? (value / base).toFixed(2) : '—');
  const lines = [
    `Node ${process.version}. Medians of ${RUNS} runs, ${CLIENTS} clients, ${FANOUT_MESSAGES} fan-out messages, ${MESSAGES} messages over ${CLIENTS} users, ${CONCURRENCY} concurrent publishers; servers pinned to core ${SERVER_CORE}, the load generator (one process) to core ${LOAD_CORE}. CPU: utime + stime of the server's processes (PostgreSQL and Redis not counted) per delivery.`,
    ...(bareRuns ? [] : ['', `Bare uWS not run: no uWebSockets.js build loads on Node ${process.version}.`]),
    '',
    '| scenario | deliveries/s | × bare uWS | × Socket.IO | server CPU µs/delivery | CPU × bare uWS | publishes/s | p50 ms | p99 ms | lost |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [name, results] of Object.entries(rows)) {
    const dps = medianOf(name, 'deliveriesPerSecond');
    const cpu = medianOf(name, 'cpuMicros');
    const fan = name.includes('fan-out');
    lines.push(`| ${name} | ${Math.round(dps)} | ${fan ? ratio(dps, medianOf(BARE, 'deliveriesPerSecond')) : '—'} | ${fan ? ratio(dps, medianOf(SOCKET_IO, 'deliveriesPerSecond')) : '—'} `
      + `| ${cpu.toFixed(2)} | ${fan ? ratio(cpu, medianOf(BARE, 'cpuMicros')) : '—'} | ${Math.round(medianOf(name, 'publishesPerSecond'))} `
      + `| ${medianOf(name, 'p50').toFixed(1)} | ${medianOf(name, 'p99').toFixed(1)} | ${results.reduce((sum, r) => sum + r.lost, 0)} |`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  process.exit(0);
}

await main();
