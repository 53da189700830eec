/**
 * The fan-out section of `npm run bench`: delivery throughput, latency and server CPU per
 * delivery of the full path (HTTP publish → store → bus → gateway → websocket) on each gateway
 * transport that runs here (native uWS, ws on node:http), against a bare uWebSockets.js pub/sub
 * server and Socket.IO driven by the same load generator in the same run. Servers run on core 0,
 * the load generator on core 1. Answers a markdown table of medians.
 */
import WebSocket from 'ws';
import { io as connectSocketIo, type Socket } from 'socket.io-client';
import { loadUws } from '../gateway/transport/uws-loader.js';
import { Http } from '../test/helpers/client.js';
import { startEmbedded, startMultiprocess, type System } from '../test/helpers/system.js';
import { circusGateways, transportEnv, transportSkip, type TransportName } from '../test/helpers/transports.js';
import { startBaseline } from './baseline.js';
import { cpuSeconds, pin, SERVER_CORE, tcpSegmentsSent } from './cpu.js';

export interface FanOutArgs {
  runs: number;
  /** Sockets of the one user (each size is its own rows, with baselines of that size). */
  clients: number[];
  /** Messages published. */
  fanout: number;
  concurrency: number;
  only: string;
}

let FANOUT_MESSAGES = 100;
let CONCURRENCY = 32;

const SENT_AT = /"body":"([\d.]+)"/;

interface Result {
  deliveriesPerSecond: number;
  /** Server CPU (run time of its processes' threads) per delivery, µs. */
  cpuMicros: number;
  publishesPerSecond: number;
  p50: number;
  p99: number;
  lost: number;
  /** TCP segments on the host per delivery, both directions: about two per write the server made. */
  segmentsPerDelivery: number;
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

/**
 * A POST, sent again when the connection was reset before any answer: Socket.IO's baseline
 * server, its event loop busy for seconds with a broadcast to 5,000 sockets, resets kept-alive
 * connections now and then. Said on stderr, so a system that does it is seen doing it.
 */
async function postResendingOnReset(url: string, body: string): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    } catch (error) {
      const code = ((error as Error).cause as { code?: string } | undefined)?.code;
      if (code !== 'ECONNRESET' || attempt === 3) throw error;
      process.stderr.write(`${url}: connection reset before an answer; sending again\n`);
    }
  }
}

/** Posts `count` messages with bounded concurrency; `target(i)` picks the URL. */
async function publishAll(count: number, target: (i: number) => string): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < count) {
      const i = next++;
      const response = await postResendingOnReset(target(i), JSON.stringify({ title: `m${i}`, body: String(performance.timeOrigin + performance.now()) }));
      if (!response.ok) throw new Error(`publish ${response.status}`);
      await response.arrayBuffer();
    }
  }));
  return count / ((performance.now() - started) / 1000);
}

async function measure(pids: number[], expected: number, counter: { delivered: number }, latencies: number[], publish: () => Promise<number>): Promise<Result> {
  const cpuBefore = cpuSeconds(pids);
  const segmentsBefore = tcpSegmentsSent();
  const started = performance.now();
  const publishesPerSecond = await publish();
  const deadline = Date.now() + 30_000;
  while (counter.delivered < expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  const seconds = (performance.now() - started) / 1000;
  const cpuMicros = ((cpuSeconds(pids) - cpuBefore) * 1e6) / Math.max(1, counter.delivered);
  const segmentsPerDelivery = (tcpSegmentsSent() - segmentsBefore) / Math.max(1, counter.delivered);
  const sorted = [...latencies].sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
  return { deliveriesPerSecond: counter.delivered / seconds, cpuMicros, publishesPerSecond, p50: pct(0.5), p99: pct(0.99), lost: expected - counter.delivered, segmentsPerDelivery };
}

/** Measured rounds per system and size, after the unmeasured one. */
const ROUNDS = 3;

/**
 * `measure` after one unmeasured round on the same sockets, for every system alike: the figure
 * is the steady-state cost per delivery, not a JIT's first compiles (a cold Node server spent
 * several times its warm CPU per message on its first few hundred). Then the round with the
 * median CPU per delivery of `ROUNDS`: a round's cost follows how many messages each write to a
 * socket carries, which depends on how the publishes bunch (circus.ini at 1,000 sockets:
 * 0.105–0.228 TCP segments and 0.72–1.27 µs a delivery over eight rounds of one run), so one
 * round was a draw. The lost count is every measured round's.
 */
async function measureWarm(pids: number[], expected: number, counter: { delivered: number }, latencies: number[], publish: () => Promise<number>): Promise<Result> {
  const results: Result[] = [];
  for (let round = 0; round <= ROUNDS; round++) {
    counter.delivered = 0;
    latencies.length = 0;
    const result = await measure(pids, expected, counter, latencies, publish);
    if (round > 0) results.push(result);
  }
  const middle = [...results].sort((a, b) => a.cpuMicros - b.cpuMicros)[Math.floor(results.length / 2)];
  return { ...middle, lost: results.reduce((sum, result) => sum + result.lost, 0) };
}

/**
 * Publishes handled before anything is measured, with one client connected, for every server
 * alike: a broadcast publishes a few hundred messages a second, too few for V8 to optimise a
 * Node server's publish path within the measured rounds, and a long-running broker's is hot.
 * circus.ini spreads them over its api processes, which each need a couple of thousand.
 */
const JIT_WARM_UP = 5000;

/** `JIT_WARM_UP` publishes to one connected client, which is then closed. */
async function warmUp(open: (latencies: number[], counter: { delivered: number }) => Promise<() => void>, target: () => string): Promise<void> {
  const counter = { delivered: 0 };
  const close = await open([], counter);
  await publishAll(JIT_WARM_UP, target);
  const deadline = Date.now() + 60_000;
  while (counter.delivered < JIT_WARM_UP && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  close();
}

const closeAll = (sockets: WebSocket[]) => () => sockets.forEach((socket) => socket.terminate());

/** One user with `sockets` sockets; every message goes to all of them. */
async function fanOut(system: System, sockets: number): Promise<Result> {
  const { token, queue } = await new Http(system.apiUrl).user();
  await warmUp(async (latencies, counter) => closeAll(await openClients(system.wsUrl, [token], latencies, counter)), () => queue);
  const latencies: number[] = [];
  const counter = { delivered: 0 };
  const opened = await openClients(system.wsUrl, Array(sockets).fill(token), latencies, counter);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const result = await measureWarm(system.pids(), FANOUT_MESSAGES * sockets, counter, latencies, () => publishAll(FANOUT_MESSAGES, () => queue));
  closeAll(opened)();
  return result;
}

async function bareFanOut(count: number): Promise<Result> {
  const bare = await startBaseline('uws');
  pin(bare.pid, SERVER_CORE);
  const wsUrl = `ws://127.0.0.1:${bare.port}/`;
  await warmUp(async (latencies, counter) => closeAll(await openClients(wsUrl, [null], latencies, counter)), () => `${bare.url}/publish`);
  const latencies: number[] = [];
  const counter = { delivered: 0 };
  const sockets = await openClients(wsUrl, Array(count).fill(null), latencies, counter);
  const result = await measureWarm([bare.pid], FANOUT_MESSAGES * count, counter, latencies, () => publishAll(FANOUT_MESSAGES, () => `${bare.url}/publish`));
  closeAll(sockets)();
  bare.close();
  return result;
}

/** Socket.IO clients (websocket transport) of the Socket.IO baseline, reading the same frames. */
async function openSocketIoClients(url: string, count: number, latencies: number[], counter: { delivered: number }): Promise<() => void> {
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i++) {
    const socket = connectSocketIo(url, { transports: ['websocket'], forceNew: true });
    socket.on('message', (text: string) => {
      const sentAt = SENT_AT.exec(text);
      if (!sentAt) return;
      counter.delivered++;
      latencies.push(performance.timeOrigin + performance.now() - Number(sentAt[1]));
    });
    sockets.push(socket);
  }
  await Promise.all(sockets.map((socket) => (socket.connected ? null : new Promise((resolve) => socket.once('connect', () => resolve(null))))));
  return () => sockets.forEach((socket) => socket.disconnect());
}

async function socketIoFanOut(count: number): Promise<Result> {
  const server = await startBaseline('socketio');
  pin(server.pid, SERVER_CORE);
  await warmUp((latencies, counter) => openSocketIoClients(server.url, 1, latencies, counter), () => `${server.url}/publish`);
  const latencies: number[] = [];
  const counter = { delivered: 0 };
  const close = await openSocketIoClients(server.url, count, latencies, counter);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const result = await measureWarm([server.pid], FANOUT_MESSAGES * count, counter, latencies, () => publishAll(FANOUT_MESSAGES, () => `${server.url}/publish`));
  close();
  server.close();
  return result;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export async function fanOutSection(args: FanOutArgs): Promise<string> {
  FANOUT_MESSAGES = args.fanout;
  CONCURRENCY = args.concurrency;
  const bareRuns = loadUws().uws !== null;
  const layouts = [['embedded', startEmbedded], ['multi-process', startMultiprocess]] as const;
  const systems = (['uws', 'ws'] as TransportName[]).flatMap((transport) => layouts.map(([layout, start]) => {
    const skip = transportSkip(transport, layout === 'embedded' ? 1 : circusGateways());
    if (skip) process.stderr.write(`${layout} on ${transport}: not run (${skip})\n`);
    return skip ? [] : [{ name: `${layout}, ${transport}`, start: () => start(transportEnv(transport)) }];
  }).flat()).filter(({ name }) => name.includes(args.only));
  const rows: Record<string, Result[]> = {};
  const record = (name: string, result: Result) => {
    (rows[name] ??= []).push(result);
    process.stderr.write(`${name}: ${Math.round(result.deliveriesPerSecond)} deliveries/s, ${result.cpuMicros.toFixed(2)} µs CPU each, ${result.segmentsPerDelivery.toFixed(3)} TCP segments each, p99 ${result.p99.toFixed(1)} ms, lost ${result.lost}\n`);
  };
  const bare = (sockets: number) => `bare uWS, ${sockets} sockets (baseline)`;
  const socketIo = (sockets: number) => `Socket.IO, ${sockets} sockets (baseline)`;
  const ours = (name: string, sockets: number) => `${name}: 1 user × ${sockets} sockets`;
  for (let run = 0; run < args.runs; run++) {
    for (const sockets of args.clients) {
      if (bareRuns) record(bare(sockets), await bareFanOut(sockets));
      record(socketIo(sockets), await socketIoFanOut(sockets));
    }
    for (const { name, start } of systems) {
      const system = await start();
      try {
        for (const pid of system.pids()) pin(pid, SERVER_CORE);
        for (const sockets of args.clients) record(ours(name, sockets), await fanOut(system, sockets));
      } finally {
        await system.stop();
      }
    }
  }
  const medianOf = (name: string, field: keyof Result) => (rows[name] ? median(rows[name].map((r) => r[field])) : NaN);
  const ratio = (value: number, base: number) => (Number.isFinite(base) ? (value / base).toFixed(2) : '—');
  const lines = [
    `Broadcast: one user, every message to all its sockets. Rounds of ${FANOUT_MESSAGES} messages: one unmeasured (and, before the sockets connect, ${JIT_WARM_UP} publishes to one client: V8's warm-up), then the round with the median CPU of ${ROUNDS}, ${CONCURRENCY} concurrent publishers. CPU: run time of the server's processes (every thread, from /proc) per delivery. TCP segments: all of the host's per delivery (each server write is one, its acknowledgement another), which shows how many messages a write carried.`,
    ...(bareRuns ? [] : ['', `Bare uWS not run: no uWebSockets.js build loads on Node ${process.version}.`]),
    '',
    '| system | deliveries/s | × bare uWS | × Socket.IO | server CPU µs/delivery | CPU × bare uWS | TCP segments per delivery | publishes/s | p50 ms | p99 ms | lost |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const sockets of args.clients) {
    for (const [name, results] of Object.entries(rows).filter(([name]) => name.includes(`${sockets} sockets`))) {
      const dps = medianOf(name, 'deliveriesPerSecond');
      const cpu = medianOf(name, 'cpuMicros');
      lines.push(`| ${name} | ${Math.round(dps)} | ${ratio(dps, medianOf(bare(sockets), 'deliveriesPerSecond'))} | ${ratio(dps, medianOf(socketIo(sockets), 'deliveriesPerSecond'))} `
        + `| ${cpu.toFixed(2)} | ${ratio(cpu, medianOf(bare(sockets), 'cpuMicros'))} | ${medianOf(name, 'segmentsPerDelivery').toFixed(3)} | ${Math.round(medianOf(name, 'publishesPerSecond'))} `
        + `| ${medianOf(name, 'p50').toFixed(1)} | ${medianOf(name, 'p99').toFixed(1)} | ${results.reduce((sum, r) => sum + r.lost, 0)} |`);
    }
  }
  return lines.join('\n');
}
