import type { FastifyError, FastifyInstance } from 'fastify';
import { PushwireError, type ErrorCode } from '../core/errors.js';

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

/** The one place errors become responses: `{"error": code, "message": ...}`; anything unknown is a logged 500. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    let typed: PushwireError;
    if (error instanceof PushwireError) typed = error;
    else if (error.validation) typed = new PushwireError(validationCode(error), `${error.validationContext ?? 'request'} ${error.message.replace(/^(body|querystring|params)\/?/, '')}`.trim());
    else if (error.code && frameworkCodes[error.code]) typed = new PushwireError(frameworkCodes[error.code], error.message);
    else if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) typed = new PushwireError('bad_request', error.message);
    else {
      request.log.error({ err: error }, 'unhandled error');
      typed = new PushwireError('internal');
    }
    if (typed.retryAfterSeconds !== undefined) void reply.header('retry-after', String(typed.retryAfterSeconds));
    void reply.status(typed.status).send(typed.toJSON());
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new PushwireError('not_found', `No route ${request.method} ${request.url.split('?')[0]}.`);
    void reply.status(error.status).send(error.toJSON());
  });
}
