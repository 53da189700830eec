import type { FastifyInstance } from 'fastify';
import type { Logger } from '../core/log.js';

/**
 * One line per request, after its answer: at info for server errors (5xx) and requests slower
 * than `slowMs`, at debug for the rest. Writing two info lines per request (fastify's default)
 * cost a write(2) each on the publish path; at info level a healthy request now costs none.
 */
export function logRequests(app: FastifyInstance, slowMs: number): void {
  app.addHook('onResponse', async (request, reply) => {
    const ms = reply.elapsedTime;
    const level = reply.statusCode >= 500 || ms >= slowMs ? 'info' : 'debug';
    const log = request.log as unknown as Logger;
    if (!log.isLevelEnabled(level)) return;
    log[level]({ req: request, status: reply.statusCode, ms: Math.round(ms * 10) / 10 }, ms >= slowMs ? 'slow request' : 'request');
  });
}
