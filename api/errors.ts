import type { FastifyError, FastifyInstance } from 'fastify';
import { PushwireError, type ErrorCode } from '../core/errors.js';
import type { Logger } from '../core/log.js';

/** Maps a schema failure to the most specific code a client can act on. */
function validationCode(error: FastifyError): ErrorCode {
  const first = error.validation?.[0];
  const field = String(first?.params?.missingProperty ?? first?.instancePath ?? '').replace(/^\//, '');
  if (field === 'title') return 'missing_title';
  if (field === 'limit') return 'bad_limit';
  if (field === 'since') return 'bad_since';
  return 'invalid_field';
}

const frameworkCodes: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'bad_request',
  FST_ERR_CTP_INVALID_JSON_BODY: 'bad_request',
};

/** What a client is told of an error: its own code, the closest documented one, or (logged) internal. */
export function typedError(error: unknown, log: Pick<Logger, 'error'>): PushwireError {
  if (error instanceof PushwireError) return error;
  const framework = error as FastifyError;
  if (framework.validation) return new PushwireError(validationCode(framework), `${framework.validationContext ?? 'request'} ${framework.message.replace(/^(body|querystring|params)\/?/, '')}`.trim());
  if (framework.code && frameworkCodes[framework.code]) return new PushwireError(frameworkCodes[framework.code], framework.message);
  if (framework.statusCode && framework.statusCode >= 400 && framework.statusCode < 500) return new PushwireError('bad_request', framework.message);
  log.error({ err: error }, 'unhandled error');
  return new PushwireError('internal');
}

/** The headers an error's answer carries besides its body: Retry-After when retrying helps. */
export function errorHeaders(typed: PushwireError): Record<string, string> {
  return typed.retryAfterSeconds === undefined ? {} : { 'retry-after': String(typed.retryAfterSeconds) };
}

/** The one place errors become responses: `{"error": code, "message": ...}`; anything unknown is a logged 500. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const typed = typedError(error, request.log);
    void reply.headers(errorHeaders(typed)).status(typed.status).send(typed.toJSON());
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new PushwireError('not_found', `No route ${request.method} ${request.url.split('?')[0]}.`);
    void reply.status(error.status).send(error.toJSON());
  });
}
