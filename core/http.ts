import type { FastifyInstance } from 'fastify';
import type { Logger } from './log.js';
import { registry } from './metrics.js';

/**
 * Listens (on HOST:PORT, or on an inherited socket `fd`) and logs "<role> listening" (what
 * supervisors and tests wait for); returns the base URL.
 */
export async function listen(app: FastifyInstance, host: string, port: number, role: string, log: Logger, fd?: number): Promise<string> {
  // Fastify passes the options to net.Server#listen, which takes `fd`; its types only name ports and paths.
  await app.listen(fd === undefined ? { host, port } : ({ fd } as unknown as { port: number }));
  const address = app.server.address();
  const url = `http://${host}:${typeof address === 'object' && address ? address.port : port}`;
  log.info({ url }, `${role} listening`);
  return url;
}

/**
 * What load balancers, supervisors and Prometheus ask every daemon: /health (the process
 * answers), /ready (it can do its work: `ready` resolves null, else the reason; 503 otherwise)
 * and /metrics.
 */
export function operationalRoutes(app: FastifyInstance, ready: () => Promise<string | null>): void {
  app.get('/health', async () => ({ status: 'ok', pid: process.pid }));
  app.get('/ready', async (_request, reply) => {
    const problem = await ready().catch((error: unknown) => (error as Error).message);
    return reply.status(problem ? 503 : 200).send(problem ? { status: 'not ready', reason: problem } : { status: 'ready' });
  });
  app.get('/metrics', async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()));
}
