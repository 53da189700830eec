import type { FastifyError, FastifyInstance } from 'fastify';
import { PushwireError, type ErrorCode, type ErrorField } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { AllowedMethods } from './method-not-allowed.js';

const LOCATIONS: Record<string, ErrorField['location']> = { body: 'body', querystring: 'querystring', params: 'path', headers: 'header' };

/** Maps a schema failure to the most specific code a client can act on, and the field it is about. */
function validationError(error: FastifyError): PushwireError {
  const first = error.validation?.[0];
  const field = String(first?.params?.missingProperty ?? first?.instancePath ?? '').replace(/^\//, '');
  const code: ErrorCode = field === 'title' ? 'missing_title' : field === 'limit' ? 'bad_limit' : field === 'since' ? 'bad_since' : 'invalid_field';
  const location = LOCATIONS[error.validationContext ?? 'body'] ?? 'body';
  const message = `${error.validationContext ?? 'request'} ${error.message.replace(/^(body|querystring|params)\/?/, '')}`.trim();
  return new PushwireError(code, message, field ? { location, name: field.split('/')[0] } : undefined);
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
  if (framework.validation) return validationError(framework);
  if (framework.code && frameworkCodes[framework.code]) return new PushwireError(frameworkCodes[framework.code], framework.message);
  if (framework.statusCode && framework.statusCode >= 400 && framework.statusCode < 500) return new PushwireError('bad_request', framework.message);
  log.error({ err: error }, 'unhandled error');
  return new PushwireError('internal');
}

/** The headers an error's answer carries besides its body: Retry-After when retrying helps. */
export function errorHeaders(typed: PushwireError): Record<string, string> {
  return typed.retryAfterSeconds === undefined ? {} : { 'retry-after': String(typed.retryAfterSeconds) };
}

/**
 * The one place errors become responses: `{"error": code, "message": ...}`; anything unknown is a
 * logged 500. Before any route is added: it learns every route's methods, for 405s.
 */
export function installErrorHandling(app: FastifyInstance): void {
  const allowed = new AllowedMethods(app);
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const typed = typedError(error, request.log);
    void reply.headers(errorHeaders(typed)).status(typed.status).send(typed.toJSON());
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    const methods = allowed.of(path);
    if (methods.length > 0) {
      const error = new PushwireError('method_not_allowed', `${path} takes ${methods.join(', ')}.`);
      return void reply.status(error.status).header('allow', methods.join(', ')).send(error.toJSON());
    }
    const error = new PushwireError('not_found', `No route ${request.method} ${path}.`);
    void reply.status(error.status).send(error.toJSON());
  });
}
