/**
 * `npm run bench`: delivery throughput and latency of the full path (HTTP publish → store →
 * bus → gateway → websocket) on this machine, against a bare uWebSockets.js pub/sub server
 * driven by the same load generator in the same run. Prints a markdown table of medians.
 *
 *   npm run bench -- --runs 3 --clients 1000 --messages 3000
 */
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { Http } from '../test/helpers/client.js';
import { startEmbedded, startMultiprocess, type System } from '../test/helpers/system.js';
import { io as connectSocketIo, type Socket } from 'socket.io-client';
import { startBaseline } from './baseline.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    clients: { type: 'string', default: '1000' },
    messages: { type: 'string', default: '3000' },
    fanout: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '32' },
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

async function measure(expected: number, counter: { delivered: number }, latencies: number[], publish: () => Promise<number>): Promise<Result> {
  const started = performance.now();
  const publishesPerSecond = await publish();
  const deadline = Date.now() + 30_000;
  while (counter.delivered < expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  const seconds = (performance.now() - started) / 1000;
  const sorted = [...latencies].sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
  return { deliveriesPerSecond: counter.delivered / seconds, publishesPerSecond, p50: pct(0.5), p99: pct(0.99), lost: expected - counter.delivered };
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
  const result = await measure(MESSAGES, counter, latencies, () => publishAll(MESSAGES, (i) => users[i % users.length].queue));
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
  const result = await measure(FANOUT_MESSAGES * CLIENTS, counter, latencies, () => publishAll(FANOUT_MESSAGES, () => queue));
  sockets.forEach((socket) => socket.terminate());
  return result;
}

async function bareFanOut(): Promise<Result> {
  const bare = await startBaseline('uws');
  const latencies: number[] = [];
  const counter = { delivered: 0 };
  const sockets = await openClients(`ws://127.0.0.1:${bare.port}/`, Array(CLIENTS).fill(null), latencies, counter);
  const result = await measure(FANOUT_MESSAGES * CLIENTS, counter, latencies, () => publishAll(FANOUT_MESSAGES, () => `${bare.url}/publish`));
  sockets.forEach((socket) => socket.terminate());
  bare.close();
  return result;
}

/** Socket.IO clients (websocket transport) of the Socket.IO baseline, reading the same frames. */
async function socketIoFanOut(): Promise<Result> {
  const server = await startBaseline('socketio');
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
  const result = await measure(FANOUT_MESSAGES * CLIENTS, counter, latencies, () => publishAll(FANOUT_MESSAGES, () => `${server.url}/publish`));
  sockets.forEach((socket) => socket.disconnect());
  server.close();
  return result;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main(): Promise<void> {
  const rows: Record<string, Result[]> = {};
  const record = (name: string, result: Result) => {
    (rows[name] ??= []).push(result);
    process.stderr.write(`${name}: ${Math.round(result.deliveriesPerSecond)} deliveries/s, p99 ${result.p99.toFixed(1)} ms, lost ${result.lost}\n`);
  };
  for (let run = 0; run < RUNS; run++) {
    record('bare uWS fan-out (baseline)', await bareFanOut());
    record('Socket.IO fan-out (baseline)', await socketIoFanOut());
    for (const [kind, start] of [['embedded', () => startEmbedded()], ['multi-process', startMultiprocess]] as const) {
      const system = await start();
      try {
        record(`${kind}: fan-out, 1 user × ${CLIENTS} sockets`, await fanOut(system));
        record(`${kind}: ${CLIENTS} users × 1 socket`, await manyUsers(system));
      } finally {
        await system.stop();
      }
    }
  }
  const baseline = median(rows['bare uWS fan-out (baseline)'].map((r) => r.deliveriesPerSecond));
  const socketIo = median(rows['Socket.IO fan-out (baseline)'].map((r) => r.deliveriesPerSecond));
  const lines = [
    `Medians of ${RUNS} runs, ${CLIENTS} clients, ${FANOUT_MESSAGES} fan-out messages, ${MESSAGES} messages over ${CLIENTS} users, ${CONCURRENCY} concurrent publishers; load generator in one process on the same 2-core machine.`,
    '',
    '| scenario | deliveries/s | × bare uWS | × Socket.IO | publishes/s | p50 ms | p99 ms | lost |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [name, results] of Object.entries(rows)) {
    const dps = median(results.map((r) => r.deliveriesPerSecond));
    lines.push(`| ${name} | ${Math.round(dps)} | ${name.includes('fan-out') ? (dps / baseline).toFixed(2) : '—'} | ${name.includes('fan-out') ? (dps / socketIo).toFixed(2) : '—'} | ${Math.round(median(results.map((r) => r.publishesPerSecond)))} | ${median(results.map((r) => r.p50)).toFixed(1)} | ${median(results.map((r) => r.p99)).toFixed(1)} | ${results.reduce((sum, r) => sum + r.lost, 0)} |`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  process.exit(0);
}

await main();
