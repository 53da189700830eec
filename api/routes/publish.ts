import type { FastifyInstance } from 'fastify';
import { PushwireError } from '../../core/errors.js';
import { formatTimestamp, encodeKey } from '../../core/ids.js';
import { queueUrl, type StoredMessage } from '../../core/message.js';
import type { ApiContext } from '../context.js';
import { publishValidator, type PublishFields } from '../publish-schema.js';
import { bodyCheckedByHandler, integer, object, string } from '../schemas.js';
import { requireStorable } from '../storable.js';

/**
 * Stores a message on the named queue and puts it on the bus; resolves once it is durable.
 * For the routes that need only the queue's name: the queue's publish limit applies.
 */
export async function publishToQueue(context: ApiContext, name: string, fields: PublishFields, clientAddress: string): Promise<StoredMessage> {
  const owner = context.queues.known(name) ?? (await context.queues.get(name));
  if (!owner) throw new PushwireError('queue_not_found');
  context.publishes.take(owner.id, clientAddress);
  const { ttl, ...body } = fields;
  try {
    return await context.publisher.publish({
      queueId: owner.id, queue: owner.name, userId: owner.userId, kind: 'message', replaceId: body.replaceId ?? null, body,
      ttlSeconds: ttl ?? context.config.messageTtlSeconds,
    });
  } catch (error) {
    // Deleted through another api process since we cached it: the append found no such queue.
    if (error instanceof PushwireError && error.code === 'queue_not_found') context.queues.forget(name);
    throw error;
  }
}

/** A queue as a batch names it: its URL (what a site was given) or just the name at its end. */
const QUEUE_IN_URL = /\/queue\/([^/?#]+)\/?(?:[?#].*)?$/;
function queueName(reference: unknown): string {
  if (typeof reference !== 'string' || reference.length === 0) throw new PushwireError('invalid_field', '`queue` must be a queue URL or name.');
  const name = QUEUE_IN_URL.exec(reference)?.[1] ?? reference;
  if (name.length > 64 || name.includes('/')) throw new PushwireError('invalid_field', '`queue` must be a queue URL or name.');
  return name;
}

type ItemResult = { key: string; timestamp: string; queue: string } | { error: string; message: string; status: number };

/**
 * `POST /publish`: many messages for many queues in one request. They share the group commit
 * (one transaction, one presence lookup and one owner lookup for everything that arrives
 * together) and each gets its own answer, in request order, so one bad item never fails the rest.
 */
export function batchPublishRoutes(app: FastifyInstance, context: ApiContext): void {
  const { config } = context;
  const validate = publishValidator(config);

  async function publishItem(item: unknown, index: number, clientAddress: string): Promise<ItemResult> {
    try {
      if (item === null || typeof item !== 'object') throw new PushwireError('invalid_field', 'Each item is {"queue": URL, "message": {...}}.');
      const { queue, message } = item as { queue?: unknown; message?: unknown };
      const name = queueName(queue);
      requireStorable(message, 'message');
      const stored = await publishToQueue(context, name, validate(message ?? {}), clientAddress);
      return { key: encodeKey(stored.userId, stored.seq), timestamp: formatTimestamp(stored.micros), queue: queueUrl(config.publicUrl, stored.queue) };
    } catch (error) {
      if (!(error instanceof PushwireError)) throw error;
      return { error: error.code, message: `messages[${index}]: ${error.message}`, status: error.status };
    }
  }

  // Each message is checked on its own (as POST /queue/{queue}/ checks its body): a bad one fails alone, in its result.
  const item = object({
    queue: { ...string, description: 'A queue URL, or the name at its end.' },
    message: { type: 'object', description: 'The fields POST /queue/{queue}/ takes (title, body, actionUrl, iconUrl, replaceId, ttl, priority).' },
  });
  app.post('/publish', {
    bodyLimit: config.maxBatchBytes,
    // Items are checked one by one below: one bad item fails alone.
    config: {
      storableCheckedPerItem: true,
      ...bodyCheckedByHandler(object({ messages: { type: 'array', items: { anyOf: [item, {}], description: 'An item that is not {queue, message} fails alone, in its result.' }, minItems: 1, maxItems: config.maxBatchMessages } })),
    },
    schema: {
      tags: ['messages'], summary: 'Publish many messages to many queues',
      description: `At most ${config.maxBatchMessages} messages and ${config.maxBatchBytes} bytes. Each item gets its own result, in request order: `
        + 'its key, or its error (one bad item does not fail the others).',
      response: {
        200: object({
          published: integer,
          failed: integer,
          results: {
            type: 'array',
            items: {
              oneOf: [
                object({ key: string, timestamp: string, queue: string }),
                object({ error: string, message: string, status: integer }),
              ],
            },
          },
        }),
      },
    },
  }, async (request) => {
    // Checked here, not by a route schema: fastify's schemas coerce a lone value into an array.
    const messages = (request.body as { messages?: unknown } | null | undefined)?.messages;
    if (!Array.isArray(messages)) throw new PushwireError('invalid_field', 'The body is {"messages": [{"queue": URL, "message": {...}}, ...]}.');
    if (messages.length === 0) throw new PushwireError('invalid_field', '`messages` must hold at least one message.');
    if (messages.length > config.maxBatchMessages) throw new PushwireError('too_many_messages', `A batch holds at most ${config.maxBatchMessages} messages; this one has ${messages.length}.`);
    const results = await Promise.all(messages.map((item, index) => publishItem(item, index, request.ip)));
    const failed = results.filter((result) => 'error' in result).length;
    return { published: results.length - failed, failed, results };
  });
}
