/**
 * `npm run bench:memory`: resident memory per idle websocket connection, Pushwire's gateway
 * against a bare uWebSockets.js server, both in their own processes, with the same clients.
 * RSS is read from /proc before and after opening the connections (medians of several runs).
 *
 *   npm run bench:memory -- --connections 10000 --runs 3
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { Http } from '../test/helpers/client.js';
import { startMultiprocess } from '../test/helpers/system.js';
import { startBaseline } from './baseline.js';

const { values: args } = parseArgs({ options: { connections: { type: 'string', default: '10000' }, runs: { type: 'string', default: '3' } } });
const CONNECTIONS = Number(args.connections);
const RUNS = Number(args.runs);

const rss = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
const settle = () => new Promise((resolve) => setTimeout(resolve, 2000));

async function open(url: string, auth: string | null): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  for (let start = 0; start < CONNECTIONS; start += 500) {
    sockets.push(...(await Promise.all(Array.from({ length: Math.min(500, CONNECTIONS - start) }, (_, i) => new Promise<WebSocket>((resolve, reject) => {
      const socket = new WebSocket(url, { localAddress: `127.0.0.${1 + ((start + i) % 8)}`, perMessageDeflate: false });
      socket.on('error', reject);
      if (auth === null) socket.on('open', () => resolve(socket));
      else {
        socket.on('open', () => socket.send(auth));
        socket.on('message', (data) => (data.toString().startsWith('{"type":"hello"') ? resolve(socket) : undefined));
      }
    })))));
  }
  return sockets;
}

async function measure(pids: () => number[], url: string, auth: string | null): Promise<number> {
  await settle();
  const before = pids().reduce((sum, pid) => sum + rss(pid), 0);
  const sockets = await open(url, auth);
  await settle();
  const after = pids().reduce((sum, pid) => sum + rss(pid), 0);
  sockets.forEach((socket) => socket.terminate());
  await settle();
  return (after - before) / CONNECTIONS;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main(): Promise<void> {
  const bare: number[] = [];
  const gateway: number[] = [];
  const system = await startMultiprocess({ PUSHWIRE_LOG_LEVEL: 'info' });
  try {
    const api = new Http(system.apiUrl);
    const { token } = await api.user();
    const gatewayPids = async () => {
      const status = (await api.request('GET', `${system.monitorUrl}/status`)).body as { gateways: { id: string }[] };
      return status.gateways.map((g) => Number(/-(\d+)-[0-9a-f]+$/.exec(g.id)![1]));
    };
    const pids = await gatewayPids();
    for (let run = 0; run < RUNS; run++) {
      const baseline = await startBaseline('uws');
      bare.push(await measure(() => [baseline.pid], `ws://127.0.0.1:${baseline.port}/`, null));
      baseline.close();
      gateway.push(await measure(() => pids, system.wsUrl, JSON.stringify({ token })));
      process.stderr.write(`run ${run + 1}: bare uWS ${(bare[run] / 1024).toFixed(2)} KiB, gateway ${(gateway[run] / 1024).toFixed(2)} KiB per connection\n`);
    }
  } finally {
    await system.stop();
  }
  const b = median(bare);
  const g = median(gateway);
  process.stdout.write([
    `Medians of ${RUNS} runs, ${CONNECTIONS} idle connections (authenticated, on one user, for Pushwire), RSS delta per connection.`,
    '', '| server | KiB per idle connection | × bare uWS |', '|---|---:|---:|',
    `| bare uWS | ${(b / 1024).toFixed(2)} | 1.00 |`, `| Pushwire gateway | ${(g / 1024).toFixed(2)} | ${(g / b).toFixed(2)} |`, '',
  ].join('\n'));
  process.exit(0);
}

await main();
