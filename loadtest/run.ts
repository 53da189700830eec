import cliProgress from 'cli-progress';
import hdr from 'hdr-histogram-js';
import { publishBatch } from '../sdk/publish.js';
import { LoadClient, sourceAddress } from './clients.js';
import { keepAliveFetch } from './http.js';
import { percentiles, type LoadResult } from './report.js';
import { scrapeServer } from './server.js';

export interface LoadOptions {
  api: string;
  clients: number;
  shape: 'hot' | 'per-client' | 'mixed';
  messages: number;
  rate: number;
  concurrency: number;
  /** Messages per request: 1 posts to each queue URL, more posts batches to `POST /publish`. */
  batch?: number;
  sources: number;
  drain: number;
  /** Seconds a client keeps trying to get in (refused, closed before hello) before the run fails; 60 when not given. */
  connectTimeout?: number;
  /** Reconnect storm: run this (kill or drain a gateway) once every client is connected. */
  storm?: () => Promise<void>;
  /** Progress bars on stderr. */
  progress: boolean;
}

const bars = (enabled: boolean) => (label: string, total: number) => {
  if (!enabled) return { increment: (_n?: number, _payload?: object) => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar({ format: `${label.padEnd(10)} {bar} {value}/{total} {extra}`, hideCursor: true, stream: process.stderr }, cliProgress.Presets.shades_classic);
  bar.start(total, 0, { extra: '' });
  return bar;
};

async function post<T>(url: string, body?: unknown): Promise<T> {
  const response = await keepAliveFetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
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

/** Runs one load test against a running Pushwire and measures it. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const api = options.api.replace(/\/+$/, '');
  const progress = bars(options.progress);
  const nodes = (await (await fetch(`${api}/nodes/`)).json()) as { nodes: string[] };
  if (nodes.nodes.length === 0) throw new Error('no gateway in /nodes/');
  const gateway = nodes.nodes[0];
  const stormStarted = { at: 0, done: 0 };
  const hotClients = options.shape === 'hot' ? options.clients : options.shape === 'mixed' ? Math.floor(options.clients / 2) : 0;
  const users = (hotClients ? 1 : 0) + (options.clients - hotClients);
  const creating = progress('users', users);
  const tokens = await pool(users, 32, async () => {
    const created = await post<{ token: string; queue: string }>(`${api}/token/`);
    creating.increment();
    return created;
  });
  creating.stop();
  const latency = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
  const clients = Array.from({ length: options.clients }, (_, i) => {
    const user = i < hotClients ? 0 : (hotClients ? 1 : 0) + (i - hotClients);
    return new LoadClient(tokens[user].token, user, api, sourceAddress(i, Math.max(1, options.sources)), latency);
  });
  const socketsOf = new Array<number>(users).fill(0);
  for (const client of clients) socketsOf[client.user]++;

  const connectTimes = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
  const connecting = progress('connect', clients.length);
  await pool(clients.length, 200, async (i) => {
    const ms = await clients[i].start(nodes.nodes[i % nodes.nodes.length], (options.connectTimeout ?? 60) * 1000);
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
  // Reconnect storm: set it off now and publish through it.
  const storm = options.storm ? (stormStarted.at = performance.now(), options.storm().then(() => { stormStarted.done = performance.now(); })) : null;
  const interval = options.rate > 0 ? 1000 / options.rate : 0;
  const batch = Math.max(1, options.batch ?? 1);
  const message = (i: number) => ({ title: `load ${i}`, body: String(Math.round((performance.timeOrigin + performance.now()) * 1000)) });
  await pool(Math.ceil(options.messages / batch), options.concurrency, async (request) => {
    const first = request * batch;
    const indices = Array.from({ length: Math.min(batch, options.messages - first) }, (_, k) => first + k);
    if (interval) {
      const wait = started + first * interval - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    try {
      if (batch === 1) {
        await post(tokens[targets(first)].queue, message(first));
        expected += socketsOf[targets(first)];
      } else {
        const results = await publishBatch(api, indices.map((i) => ({ queue: tokens[targets(i)].queue, message: message(i) })), { batchSize: batch, fetcher: keepAliveFetch });
        results.forEach((result, k) => {
          if ('error' in result) failures++;
          else expected += socketsOf[targets(indices[k])];
        });
      }
    } catch {
      failures += indices.length;
    }
    publishing.increment(indices.length, { extra: `delivered ${clients.reduce((n, c) => n + c.received, 0)}` });
  });
  const publishSeconds = (performance.now() - started) / 1000;
  publishing.stop();
  await storm;
  const delivered = () => clients.reduce((n, c) => n + c.received, 0);
  const deadline = Date.now() + options.drain * 1000;
  while ((delivered() < expected || (storm && clients.some((c) => !c.open))) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  const caughtUp = performance.now();
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
    connectRetries: clients.reduce((n, c) => n + c.connectRetries, 0),
    latencyMs: percentiles(latency, 1000),
    server: {
      cpuSeconds: before.cpuSeconds !== null && after.cpuSeconds !== null ? after.cpuSeconds - before.cpuSeconds : null,
      rssBytes: after.rssBytes,
    },
    histogram: buckets,
    ...(storm ? {
      storm: {
        secondsFromStart: (caughtUp - stormStarted.at) / 1000,
        secondsAfterCommand: (caughtUp - stormStarted.done) / 1000,
        reconnects: clients.reduce((n, c) => n + c.reconnects, 0),
      },
    } : {}),
  };
  return result;
}
