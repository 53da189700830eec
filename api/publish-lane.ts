import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../core/config.js';
import { PushwireError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { publishAnswerJson } from '../core/message.js';
import type { ApiContext } from './context.js';
import { errorHeaders, typedError } from './errors.js';
import { publishValidator } from './publish-schema.js';
import { logRequest } from './request-log.js';
import { publishToQueue } from './routes/publish.js';
import { requireStorable } from './storable.js';

/** A queue name as the publish route takes it, and nothing that would need decoding. */
const PUBLISH_PATH = /^\/queue\/([A-Za-z0-9_-]{1,64})\/?$/;

/** The headers the route's own answers carry (@fastify/cors adds its header to every answer). */
function answerHeaders(config: Pick<Config, 'corsOrigin'>): Record<string, string> {
  if (config.corsOrigin === 'off') return {};
  return config.corsOrigin === '*' ? { 'access-control-allow-origin': '*' } : { vary: 'Origin' };
}

/**
 * The publish route's express lane. What back ends send, `POST /queue/{name}/` with a JSON body
 * of a declared length and nothing else (no query, no Origin, no forwarded address), is answered
 * here, in front of Fastify: its router, hooks, reply and per-request logger cost ~15% of the
 * server's CPU per publish (a profile under the per-user bench). It answers exactly as the route
 * does, through the same functions (validation, the store check, the queue's limit, publishing,
 * errors in the documented shape); `test/publish-lane.test.ts` holds both to the same answers.
 * Every other request, and anything the lane is not sure of, is Fastify's: the lane returns false.
 * Node's HTTP server still parses every request, so its limits and deadlines hold for both.
 */
export function publishLane(context: ApiContext, log: Logger): (request: IncomingMessage, response: ServerResponse) => boolean {
  const { config } = context;
  const validate = publishValidator(config);
  const headers = answerHeaders(config);
  const forwarding = config.trustProxy !== '';

  /** Answers the JSON text `text`. */
  function answer(request: IncomingMessage, response: ServerResponse, started: number, status: number, text: string, extra: Record<string, string> = {}): void {
    response.writeHead(status, { ...headers, ...extra, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    response.end(text);
    // The line logRequests writes for Fastify's routes, by the route's pattern (the URL holds the queue's name, a secret).
    const req = { method: 'POST', ip: request.socket.remoteAddress, routeOptions: { url: '/queue/:queue/' } };
    logRequest(log, { req, lane: true }, status, performance.now() - started, config.slowRequestMs);
  }

  async function publish(request: IncomingMessage, response: ServerResponse, started: number, name: string, text: string): Promise<void> {
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch (error) {
      // As Fastify answers a body that is not JSON: 400, and the connection closed.
      return answer(request, response, started, 400, JSON.stringify(new PushwireError('bad_request', (error as Error).message).toJSON()), { connection: 'close' });
    }
    try {
      // The name needs no check: PUBLISH_PATH admits only characters any store holds.
      requireStorable(body, 'body');
      const stored = await publishToQueue(context, name, validate(body), request.socket.remoteAddress ?? '');
      answer(request, response, started, 200, publishAnswerJson(stored, config.publicUrl));
    } catch (error) {
      const typed = typedError(error, log);
      answer(request, response, started, typed.status, JSON.stringify(typed.toJSON()), errorHeaders(typed));
    }
  }

  return (request, response) => {
    if (request.method !== 'POST') return false;
    const name = PUBLISH_PATH.exec(request.url!)?.[1];
    if (name === undefined) return false;
    const { headers: sent } = request;
    const type = sent['content-type'];
    if (type !== 'application/json' && type !== 'application/json; charset=utf-8') return false;
    if (sent.origin !== undefined || (forwarding && sent['x-forwarded-for'] !== undefined)) return false;
    const length = Number(sent['content-length']);
    if (!Number.isInteger(length) || length < 1 || length > config.maxRequestBytes || sent['transfer-encoding'] !== undefined) return false;
    const started = performance.now();
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => void publish(request, response, started, name, Buffer.concat(chunks).toString('utf8')));
    // A client that goes away mid-body: nothing to answer, nothing published.
    request.on('error', () => response.destroy());
    return true;
  };
}
