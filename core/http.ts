import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import type { Config } from './config.js';
import { PushwireError, type ErrorCode } from './errors.js';
import type { Logger } from './log.js';
import { registry } from './metrics.js';

/**
 * Answers what never became a request (Node's HTTP parser refused it, or it timed out) in the
 * documented shape, `{"error": code, "message": ...}`, then closes the connection.
 */
export function clientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const code: ErrorCode = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'request_timeout'
    : error.code === 'HPE_HEADER_OVERFLOW' ? 'headers_too_large'
      : 'bad_request';
  const typed = new PushwireError(code, code === 'bad_request' ? 'The request is not valid HTTP/1.1.' : undefined);
  const body = JSON.stringify(typed.toJSON());
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${typed.status} ${code.replace(/_/g, ' ')}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}

/**
 * Every daemon's HTTP server: headers within PUSHWIRE_HTTP_HEADERS_TIMEOUT_MS and the whole
 * request within PUSHWIRE_HTTP_REQUEST_TIMEOUT_MS, checked every second (Node's default checks
 * every 30 s), so clients that send slowly cannot hold connections (and file descriptors) that
 * /health and everyone else need; parser errors, timeouts and URLs the router refuses in the
 * documented shape.
 */
export function serverOptions(config: Pick<Config, 'httpHeadersTimeoutMs' | 'httpRequestTimeoutMs'>): FastifyServerOptions {
  return {
    requestTimeout: config.httpRequestTimeoutMs,
    http: { headersTimeout: config.httpHeadersTimeoutMs, connectionsCheckingInterval: 1000 },
    clientErrorHandler: clientError,
    frameworkErrors: (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
      const typed = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? new PushwireError('uri_too_long')
        : new PushwireError('bad_request', error.code === 'FST_ERR_BAD_URL' ? 'The URL is not validly percent-encoded.' : error.message);
      void reply.status(typed.status).send(typed.toJSON());
    },
  } as FastifyServerOptions;
}

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
  const status = (properties: Record<string, unknown>) => ({ type: 'object', required: Object.keys(properties), properties });
  app.get('/health', {
    schema: { tags: ['operations'], summary: 'The process answers', response: { 200: status({ status: { const: 'ok' }, pid: { type: 'integer' } }) } },
  }, async () => ({ status: 'ok', pid: process.pid }));
  app.get('/ready', {
    schema: {
      tags: ['operations'], summary: 'The process can do its work',
      response: { 200: status({ status: { const: 'ready' } }), 503: status({ status: { const: 'not ready' }, reason: { type: 'string' } }) },
    },
  }, async (_request, reply) => {
    const problem = await ready().catch((error: unknown) => (error as Error).message);
    return reply.status(problem ? 503 : 200).send(problem ? { status: 'not ready', reason: problem } : { status: 'ready' });
  });
  app.get('/metrics', {
    schema: { tags: ['operations'], summary: 'Prometheus metrics', response: { 200: { content: { 'text/plain': { schema: { type: 'string' } } } } } },
  }, async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()));
}
