import { Ajv } from 'ajv';
import type { Config } from '../core/config.js';
import { PushwireError } from '../core/errors.js';
import type { MessageFields } from '../sdk/publish.js';

/** The fields of a message a site publishes, with the configured limits (queue publish and broadcast). */
export function publishSchema(config: Config) {
  const text = { type: 'string', maxLength: config.maxFieldLength } as const;
  const link = { type: 'string', maxLength: config.maxFieldLength, pattern: '^https?://' } as const;
  return {
    type: 'object',
    properties: {
      title: { type: 'string', minLength: 1, maxLength: config.maxFieldLength },
      body: text,
      actionUrl: link,
      iconUrl: link,
      replaceId: { type: 'string', minLength: 1, maxLength: 255 },
      ttl: { type: 'integer', minimum: 1, maximum: config.maxTtlSeconds },
      priority: { enum: ['high', 'normal'] },
    },
    required: ['title'],
    description: 'Other fields are dropped, as the original service dropped them.',
  } as const;
}

/** The fields of a message: the SDK's type is the one definition of the wire contract. */
export type PublishFields = MessageFields;

/**
 * Validates one message's fields (coercing form strings), throwing the code a client acts on:
 * missing_title, or invalid_field naming the field. Used outside route schemas: the queue route
 * also takes `?action=read` with no body, and a batch answers each message on its own.
 */
export function publishValidator(config: Config): (fields: unknown) => PublishFields {
  const validate = new Ajv({ coerceTypes: true, removeAdditional: 'all', allErrors: false }).compile(publishSchema(config));
  return (fields) => {
    if (!validate(fields)) {
      const problem = validate.errors?.[0];
      const field = String(problem?.params?.missingProperty ?? problem?.instancePath.slice(1) ?? '');
      const about = { location: 'body', name: field.split('/')[0] || 'body' } as const;
      if (field === 'title' && (problem?.keyword === 'required' || problem?.keyword === 'minLength')) throw new PushwireError('missing_title', undefined, about);
      throw new PushwireError('invalid_field', `${field || 'body'} ${problem?.message ?? 'is invalid'}`, about);
    }
    // Coercion happens here, after every route checked its raw input for what the store cannot
    // hold: ajv turns a form's `ttl=Infinity` into Infinity and lets it pass as an integer within
    // the maximum. ttl is the only field it coerces to a number.
    const { ttl } = fields as PublishFields;
    if (ttl !== undefined && !Number.isFinite(ttl)) throw new PushwireError('invalid_field', 'ttl must be a finite number of seconds');
    return fields as PublishFields;
  };
}
