import t from 'tap';
import { buildApi } from '../api/app.js';
import { loadConfig } from '../core/config.js';
import { createLogger } from '../core/log.js';
import { MemoryNodeRegistry } from '../core/presence/memory.js';

t.test('/nodes/: live gateways only, each address once, least loaded first', async (t) => {
  const nodes = new MemoryNodeRegistry();
  const now = Date.now();
  const node = (id: string, address: string, connections: number, extra: object = {}) =>
    nodes.upsert({ id, address, connections, messagesPerSecond: 0, p99LatencyMs: null, startedAt: now, lastSeen: now, transport: 'ws', node: 'v24.0.0', ...extra });
  await node('a1', 'a:1', 50);
  await node('a2', 'a:1', 60); // a second process on the same port: 110 in all
  await node('b', 'b:1', 100);
  await node('c', 'c:1', 5, { lastSeen: now - 60_000 }); // silent: not listed even before the monitor reaps it
  await node('d', 'd:1', 0, { leaving: true }); // draining
  await node('e', 'e:1', 7);
  // Only the registry is used by this route; the store and publisher are never touched.
  const unused = {} as never;
  const app = await buildApi({ config: loadConfig({}), store: unused, devices: unused, outbox: unused, applications: unused, nodes, publisher: unused, queues: unused, providers: unused, moxie: unused, nonces: unused, rateLimitRedis: null, activity: unused }, createLogger('test', 'silent'));
  const response = await app.inject({ method: 'GET', url: '/nodes/' });
  t.equal(response.statusCode, 200);
  t.same(response.json(), { nodes: ['e:1', 'b:1', 'a:1'] });
  await app.close();
});
