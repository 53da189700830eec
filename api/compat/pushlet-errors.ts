import type { FastifyError, FastifyInstance } from 'fastify';
import { PushwireError } from '../../core/errors.js';
import { errorHeaders, typedError } from '../errors.js';

/** Errors whose HTTP status a Pushlet client sees as Pushlet's routing gave it, or must see to back off. */
const KEEPS_STATUS = new Set(['not_found', 'rate_limited']);

function answer(error: PushwireError): { status: number; body: { error: { type: string; message: string } } } {
  const nested = (type: string, message: string, status = 200) => ({ status, body: { error: { type, message } } });
  if (error.code === 'unauthorized') return nested('access denied', 'invalid credentials');
  if (error.code === 'internal') return nested('unexpected_error', 'An unexpected error has occured, please try your request again later', 500);
  if (error.status >= 500 || KEEPS_STATUS.has(error.code)) return nested(error.code, error.message, error.status);
  return nested(error.code, error.message);
}

/**
 * Pushlet answers its errors, auth failures included, with HTTP 200 and
 * `{"error": {"type", "message"}}`; its clients read them so, and HTTP libraries that throw on
 * a 4xx would never get to the body. Within the Pushlet prefix every error is answered that way;
 * the answer's `Pushwire-Error` header names the code for logs and proxies.
 */
export function installPushletErrors(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const typed = typedError(error, request.log);
    const { status, body } = answer(typed);
    // Pushlet sends no challenge: its clients send credentials unasked.
    reply.removeHeader('www-authenticate');
    void reply.headers({ ...errorHeaders(typed), 'pushwire-error': typed.code }).status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    void reply.status(404).header('pushwire-error', 'not_found').send({ error: { type: 'not_found', message: `The requested method was not found: ${path}` } });
  });
}
