import type { SwaggerTransform } from '@fastify/swagger';
import { errorCatalogue } from '../core/errors.js';

/**
 * Schemas several routes share, registered once (openapi.ts) and named in the document's
 * components: routes refer to them as `{ $ref: 'Name#' }`.
 */
export const sharedSchemas = [
  {
    $id: 'Error',
    type: 'object',
    description: 'Every error answer. `error` is a stable code a client can act on; `message` is for people; `status` and `errors` are the original Mozilla service\'s.',
    required: ['error', 'message', 'status', 'errors'],
    properties: {
      error: { type: 'string', enum: Object.keys(errorCatalogue) },
      message: { type: 'string' },
      description: { type: 'string', description: 'The Moxie API\'s errors only: `message` again, where Moxie\'s clients read it.' },
      status: { const: 'error', description: 'The original Mozilla service\'s (cornice\'s) error fields, for its clients.' },
      errors: {
        type: 'array', minItems: 1, maxItems: 1,
        items: {
          type: 'object', required: ['location', 'name', 'description'],
          properties: { location: { enum: ['body', 'querystring', 'path', 'header'] }, name: { type: 'string', description: 'The field, or the error\'s code.' }, description: { type: 'string' } },
        },
      },
    },
    additionalProperties: false,
  },
  /** Pushlet's error answer (sinatra-jsonapi's `api_error`): one object under `error`. */
  {
    $id: 'PushletError',
    type: 'object',
    description: 'Every error of the Pushlet API, as Pushlet answered it: `type` is the code, `message` is for people. Sent with HTTP 200, except 404 (no such route), 429 (rate limited) and 5xx.',
    required: ['error'],
    properties: {
      error: {
        type: 'object', required: ['type', 'message'],
        properties: { type: { type: 'string', description: 'A Pushwire error code, or Pushlet\'s own `access denied`, `not_found` and `unexpected_error`.' }, message: { type: 'string' } },
        additionalProperties: false,
      },
    },
    additionalProperties: false,
  },
  {
    $id: 'Envelope',
    type: 'object',
    description: 'A stored message as every reader gets it. `key` orders a user\'s messages and is what `since` takes.',
    required: ['key', 'timestamp', 'queue', 'body'],
    properties: {
      key: { type: 'string' },
      timestamp: { type: 'string', description: 'Seconds since the epoch, with microseconds.' },
      queue: { type: 'string', description: 'The queue\'s URL.' },
      body: { type: 'object', description: 'What was published (or, for read marks and markers, what they say).' },
    },
  },
  {
    $id: 'PublishAnswer',
    description: 'The stored message\'s envelope, plus what the original Mozilla service answered (its clients read `messages[0].key`).',
    allOf: [
      { $ref: 'Envelope#' },
      {
        type: 'object',
        required: ['messages', 'status'],
        properties: {
          messages: {
            type: 'array', minItems: 1, maxItems: 1,
            items: { type: 'object', required: ['key', 'timestamp'], properties: { key: { type: 'string' }, timestamp: { type: 'string' } } },
          },
          status: { const: 'ok' },
        },
      },
    ],
  },
] as const;

export const ref = (id: (typeof sharedSchemas)[number]['$id']) => ({ $ref: `${id}#` }) as const;

/** An object whose listed members are all present. */
export const object = (properties: Record<string, unknown>, description?: string) => ({
  type: 'object', required: Object.keys(properties), properties, ...(description ? { description } : {}),
}) as const;

export const string = { type: 'string' } as const;
export const integer = { type: 'integer' } as const;
export const boolean = { type: 'boolean' } as const;
export const nullable = (type: string) => ({ type: [type, 'null'] }) as const;

/** Marks an operation whose request body may be left out (openapi.ts turns it into `requestBody.required: false`). */
export const BODY_OPTIONAL = 'x-body-optional';

/**
 * Route config for a body its handler validates (with this same schema) instead of Fastify:
 * the document shows it as the request body.
 */
export function bodyCheckedByHandler(body: unknown, { optional = false } = {}): { swaggerTransform: SwaggerTransform } {
  return { swaggerTransform: ({ schema, url }) => ({ schema: { ...schema, body, ...(optional ? { [BODY_OPTIONAL]: true } : {}) }, url }) };
}
