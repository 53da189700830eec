import type { FastifyInstance } from 'fastify';
import type { Logger } from './log.js';

/** Listens and logs "<role> listening" (what supervisors and tests wait for); returns the base URL. */
export async function listen(app: FastifyInstance, host: string, port: number, role: string, log: Logger): Promise<string> {
  await app.listen({ host, port });
  const address = app.server.address();
  const url = `http://${host}:${typeof address === 'object' && address ? address.port : port}`;
  log.info({ url }, `${role} listening`);
  return url;
}
