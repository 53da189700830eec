import type { Config } from '../core/config.js';

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
    additionalProperties: false,
  } as const;
}
