import { get } from 'node:http';
import type { Test } from 'tap';
import { Http, WsClient } from '../helpers/client.js';
import type { System } from '../helpers/system.js';

/** A GET on a new connection (fetch reuses one, and SO_REUSEPORT spreads connections, not requests). */
function freshGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve(Buffer.concat(chunks).toString()));
    }).on('error', reject);
  });
}

/** Several processes of one role behind one port (gateways: SO_REUSEPORT; api: circus's shared socket) all serve. */
export function sharedPortTest(t: Test, system: () => System, processes: { gateway: number; api: number }): void {
  t.test('every process behind a shared port serves', async (t) => {
    for (const [role, count] of Object.entries(processes) as ['gateway' | 'api', number][]) {
      // Concurrent connections: with one shared accept queue, an idle process may win every lone accept.
      const pids = new Set<number>();
      for (let round = 0; round < 10 && pids.size < count; round++) {
        const answers = await Promise.all(Array.from({ length: 20 }, () => freshGet(`${system().operationalUrls[role]}/health`)));
        for (const answer of answers) pids.add((JSON.parse(answer) as { pid: number }).pid);
      }
      t.equal(pids.size, count, `${count} ${role} processes answered on one port`);
    }
  });
}

/** Every daemon answers /health, /ready and /metrics, and the metrics move with the traffic. */
export function operationsSuite(t: Test, system: () => System): void {
  t.test('health, readiness and Prometheus metrics on every daemon', async (t) => {
    const api = new Http(system().apiUrl);
    const { token, queue } = await api.user();
    const client = await WsClient.subscribed(system().wsUrl, { token });
    await api.publish(queue, { title: 'measured' });
    await client.waitForMessages(1);
    const scraped: Record<string, string> = {};
    for (const [role, base] of Object.entries(system().operationalUrls)) {
      t.equal((await fetch(`${base}/health`)).status, 200, `${role} /health`);
      const ready = await fetch(`${base}/ready`);
      t.same([ready.status, await ready.json()], [200, { status: 'ready' }], `${role} /ready`);
      const metrics = await fetch(`${base}/metrics`);
      t.match(metrics.headers.get('content-type'), /^text\/plain/, `${role} /metrics is Prometheus text`);
      scraped[role] = await metrics.text();
      // Gateway processes share one port and a scrape reaches any of them: gather a few.
      if (role === 'gateway') for (let more = 0; more < 16; more++) scraped[role] += await freshGet(`${base}/metrics`);
      t.match(scraped[role], /pushwire_nodejs_eventloop_lag_seconds/, `${role}: event-loop lag`);
    }
    const all = Object.values(scraped).join('\n');
    t.match(all, /pushwire_messages_published_total\{kind="message"\} [1-9]/, 'published');
    t.match(all, /pushwire_store_seconds_count\{operation="append"\} [1-9]/, 'store latency');
    t.match(all, /pushwire_connections [1-9]/, 'connections');
    t.match(all, /pushwire_messages_delivered_total\{path="live"\} [1-9]/, 'delivered');
    t.match(all, /pushwire_bus_lag_seconds_count [1-9]/, 'bus lag');
    const badAuth = await WsClient.connect(system().wsUrl, { token: 'f'.repeat(32) });
    await badAuth.closed();
    // Gateway processes share the port, so a scrape reaches any of them: ask until the one that refused answers.
    const gateway = system().operationalUrls.gateway ?? system().operationalUrls.api!;
    let counted = false;
    for (let attempt = 0; attempt < 20 && !counted; attempt++) counted = /pushwire_auth_failures_total\{reason="invalid_token"\} [1-9]/.test(await freshGet(`${gateway}/metrics`));
    t.ok(counted, 'auth failures');
    client.close();
  });
}
