import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import type { Backends } from '../core/backends.js';
import type { Config } from '../core/config.js';
import type { Role } from '../core/daemon.js';
import { listen, operationalRoutes, serverOptions } from '../core/http.js';
import type { Logger } from '../core/log.js';
import { History } from './history.js';
import { GatewayWatcher } from './watcher.js';

const HISTORY_MS = 5 * 60_000;
const OUTBOX_SAMPLE_MS = 2000;
const page = (name: string) => readFileSync(fileURLToPath(new URL(name, import.meta.url)));
const asset = (path: string) => readFileSync(fileURLToPath(import.meta.resolve(path)));

export async function startMonitor(config: Config, backends: Backends, log: Logger): Promise<Role & { url: string }> {
  const { nodes, presence, outbox } = backends;
  const bus = backends.bus.subscriber();
  const history = new History(HISTORY_MS, config.heartbeatMs * 2);
  const watcher = new GatewayWatcher(bus, nodes, presence, config.nodeTimeoutMs, log, history);
  const sampleOutbox = setInterval(() => void outbox.depth().then((depth) => history.recordOutbox(depth), () => {}), OUTBOX_SAMPLE_MS);
  void outbox.depth().then((depth) => history.recordOutbox(depth), () => {});
  await watcher.load();
  void bus.run((event) => {
    if (event.topic === 'heartbeat') void watcher.heartbeat(event.heartbeat);
  });

  const app = Fastify({ ...serverOptions(config), loggerInstance: log as FastifyBaseLogger });
  /** Every gateway the monitor knows, with its last heartbeat and whether it is overdue. */
  app.get('/status', async () => {
    const now = Date.now();
    return {
      bus: bus.connected ? 'connected' : 'disconnected',
      gateways: watcher.list().map((node) => ({ ...node, ageMs: now - node.lastSeen, state: now - node.lastSeen > config.heartbeatMs * 2 ? 'late' : 'up' })),
    };
  });
  operationalRoutes(app, async () => (bus.connected ? null : 'bus disconnected'));

  /** The dashboard: a page that polls /history and charts it (uPlot). */
  const dashboard = page('../../monitor/dashboard.html');
  const uplot = { js: asset('uplot/dist/uPlot.iife.min.js'), css: asset('uplot/dist/uPlot.min.css') };
  app.get('/', async (_request, reply) => reply.redirect('/dashboard'));
  app.get('/dashboard', async (_request, reply) => reply.type('text/html; charset=utf-8').send(dashboard));
  app.get('/assets/uplot.js', async (_request, reply) => reply.type('text/javascript').header('cache-control', 'max-age=86400').send(uplot.js));
  app.get('/assets/uplot.css', async (_request, reply) => reply.type('text/css').header('cache-control', 'max-age=86400').send(uplot.css));
  /** The last five minutes of every gateway (connections, messages/s, p99 latency, state) and of the outbox depth. */
  app.get('/history', async () => history.snapshot());
  const url = await listen(app, config.host, config.monitorPort, 'monitor', log);
  return {
    url,
    close: async () => {
      clearInterval(sampleOutbox);
      watcher.close();
      await app.close();
      bus.close();
    },
  };
}
