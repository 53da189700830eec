#!/usr/bin/env node
/**
 * pushwire-loadtest: websocket clients against a running Pushwire (`npm start`, or any
 * deployment), HTTP publishers at a fixed or maximal rate, and the measures that matter:
 * connect time, deliveries/s, publish→deliver latency (HDR histogram), losses and duplicates
 * (must be 0), server CPU and RSS.
 *
 *   npm run loadtest -- --clients 5000 --shape hot --messages 200 --html report.html
 */
import { writeFileSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import hdr from 'hdr-histogram-js';
import { LoadClient, sourceAddress } from './clients.js';
import { htmlReport, percentiles, summaryTable, type LoadResult } from './report.js';
import { scrapeServer } from './server.js';

const positive = (value: string) => {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new InvalidArgumentError('a whole number ≥ 0');
  return number;
};

const options = new Command()
  .name('pushwire-loadtest')
  .description('Load-test a running Pushwire through its public HTTP and websocket APIs.')
  .option('--api <url>', 'the HTTP API base URL', 'http://127.0.0.1:5001')
  .option('--clients <n>', 'websocket clients', positive, 1000)
  .option('--shape <shape>', 'hot (one user, every client), per-client (a user each) or mixed (half and half)', 'per-client')
  .option('--messages <n>', 'messages to publish', positive, 1000)
  .option('--rate <n>', 'publishes per second; 0 = as fast as the publishers go', positive, 0)
  .option('--concurrency <n>', 'publish requests in flight', positive, 32)
  .option('--sources <n>', 'loopback source addresses to spread clients over (64k ports each)', positive, 4)
  .option('--drain <seconds>', 'how long to wait for the last deliveries', positive, 15)
  .option('--json', 'print the result as JSON instead of a table')
  .option('--html <file>', 'also write an HTML report with the latency histogram')
  .parse()
  .opts<{ api: string; clients: number; shape: string; messages: number; rate: number; concurrency: number; sources: number; drain: number; json?: boolean; html?: string }>();

if (!['hot', 'per-client', 'mixed'].includes(options.shape)) {
  process.stderr.write(`--shape must be hot, per-client or mixed, not ${options.shape}\n`);
  process.exit(2);
}

const api = options.api.replace(/\/+$/, '');
const progress = (label: string, total: number) => {
  const bar = new cliProgress.SingleBar({ format: `${label.padEnd(10)} {bar} {value}/{total} {extra}`, hideCursor: true, stream: process.stderr }, cliProgress.Presets.shades_classic);
  bar.start(total, 0, { extra: '' });
  return bar;
};

async function post<T>(url: string, body?: unknown): Promise<T> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!response.ok) throw new Error(`POST ${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

async function pool<T>(count: number, concurrency: number, work: (index: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      const index = next++;
      results[index] = await work(index);
    }
  }));
  return results;
}

async function main(): Promise<void> {
  const nodes = (await (await fetch(`${api}/nodes/`)).json()) as { nodes: string[] };
  if (nodes.nodes.length === 0) throw new Error('no gateway in /nodes/');
  const gateway = nodes.nodes[0];
  const hotClients = options.shape === 'hot' ? options.clients : options.shape === 'mixed' ? Math.floor(options.clients / 2) : 0;
  const users = (hotClients ? 1 : 0) + (options.clients - hotClients);
  const creating = progress('users', users);
  const tokens = await pool(users, 32, async () => {
    const created = await post<{ token: string; queue: string }>(`${api}/token/`);
    creating.increment();
    return created;
  });
  creating.stop();
  const clients = Array.from({ length: options.clients }, (_, i) => {
    const user = i < hotClients ? 0 : (hotClients ? 1 : 0) + (i - hotClients);
    return new LoadClient(tokens[user].token, user);
  });
  const socketsOf = new Array<number>(users).fill(0);
  for (const client of clients) socketsOf[client.user]++;

  const latency = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
  const connectTimes = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
  const connecting = progress('connect', clients.length);
  await pool(clients.length, 200, async (i) => {
    const ms = await clients[i].connect(`ws://${gateway}/`, sourceAddress(i, Math.max(1, options.sources)), latency);
    connectTimes.recordValue(Math.max(1, Math.round(ms * 1000)));
    connecting.increment();
  });
  connecting.stop();
  // Let the gateway's subscriptions reach the broker before measuring.
  await new Promise((resolve) => setTimeout(resolve, 500));

  const before = await scrapeServer(api, gateway);
  const targets = (i: number): number => {
    if (options.shape === 'hot') return 0;
    if (options.shape === 'per-client') return i % users;
    return i % 2 === 0 ? 0 : 1 + (i % (users - 1));
  };
  let expected = 0;
  let failures = 0;
  const publishing = progress('publish', options.messages);
  const started = performance.now();
  const interval = options.rate > 0 ? 1000 / options.rate : 0;
  await pool(options.messages, options.concurrency, async (i) => {
    if (interval) {
      const due = started + i * interval;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    const user = targets(i);
    try {
      await post(tokens[user].queue, { title: `load ${i}`, body: String(Math.round((performance.timeOrigin + performance.now()) * 1000)) });
      expected += socketsOf[user];
    } catch {
      failures++;
    }
    publishing.increment(1, { extra: `delivered ${clients.reduce((n, c) => n + c.received, 0)}` });
  });
  const publishSeconds = (performance.now() - started) / 1000;
  publishing.stop();
  const delivered = () => clients.reduce((n, c) => n + c.received, 0);
  const deadline = Date.now() + options.drain * 1000;
  while (delivered() < expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  const seconds = (performance.now() - started) / 1000;
  const after = await scrapeServer(api, gateway);
  clients.forEach((client) => client.close());

  const buckets: [number, number][] = [];
  const step = Math.max(1, Math.ceil(latency.maxValue / 1000 / 40));
  for (let bound = step; bound <= Math.ceil(latency.maxValue / 1000) + step; bound += step) {
    buckets.push([bound, 0]);
  }
  // Approximate the distribution from percentiles, 0.5% apart.
  for (let p = 0.5; p <= 100; p += 0.5) {
    const value = latency.getValueAtPercentile(p) / 1000;
    const bucket = buckets.find(([bound]) => value <= bound) ?? buckets.at(-1);
    if (bucket) bucket[1] += Math.round(latency.totalCount / 200);
  }
  const result: LoadResult = {
    shape: options.shape,
    clients: clients.length,
    users,
    published: options.messages - failures,
    publishFailures: failures,
    expected,
    delivered: delivered(),
    lost: Math.max(0, expected - delivered()),
    duplicates: clients.reduce((n, c) => n + c.duplicates, 0),
    seconds,
    deliveriesPerSecond: delivered() / seconds,
    publishesPerSecond: (options.messages - failures) / publishSeconds,
    connectMs: { p50: connectTimes.getValueAtPercentile(50) / 1000, p99: connectTimes.getValueAtPercentile(99) / 1000, max: connectTimes.maxValue / 1000 },
    latencyMs: percentiles(latency, 1000),
    server: {
      cpuSeconds: before.cpuSeconds !== null && after.cpuSeconds !== null ? after.cpuSeconds - before.cpuSeconds : null,
      rssBytes: after.rssBytes,
    },
    histogram: buckets,
  };
  process.stdout.write(options.json ? `${JSON.stringify({ ...result, histogram: undefined })}\n` : `${summaryTable(result)}\n`);
  if (options.html) writeFileSync(options.html, htmlReport(result));
  process.exit(result.lost === 0 && result.duplicates === 0 ? 0 : 1);
}

main().catch((error: unknown) => {
  process.stderr.write(`pushwire-loadtest: ${(error as Error).message}\n`);
  process.exit(2);
});
