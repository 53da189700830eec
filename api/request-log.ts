import type { FastifyInstance } from 'fastify';
import type { Logger } from '../core/log.js';

/**
 * One line per request, after its answer: at info for server errors (5xx) and requests slower
 * than `slowMs`, at debug for the rest. Writing two info lines per request (fastify's default)
 * cost a write(2) each on the publish path; at info level a healthy request now costs none.
 */
export function logRequests(app: FastifyInstance, slowMs: number): void {
  app.addHook('onResponse', async (request, reply) => {
    logRequest(request.log as unknown as Logger, { req: request }, reply.statusCode, reply.elapsedTime, slowMs);
  });
}

/** One request's line (`fields` name it: `req` is logged by its route's pattern, see core/log.ts). */
export function logRequest(log: Logger, fields: Record<string, unknown>, status: number, ms: number, slowMs: number): void {
  const level = status >= 500 || ms >= slowMs ? 'info' : 'debug';
  if (!log.isLevelEnabled(level)) return;
  log[level]({ ...fields, status, ms: Math.round(ms * 10) / 10 }, ms >= slowMs ? 'slow request' : 'request');
}
