import type { FastifyInstance } from 'fastify';
import { PushwireError } from '../../core/errors.js';
import { formatTimestamp, encodeKey } from '../../core/ids.js';
import { queueUrl, type StoredMessage } from '../../core/message.js';
import type { ApiContext } from '../context.js';
import { publishValidator, type PublishFields } from '../publish-schema.js';
import { requireStorable } from '../storable.js';

/**
 * Stores a message on the named queue and puts it on the bus; resolves once it is durable.
 * For the routes that need only the queue's name: the queue's publish limit applies.
 */
export async function publishToQueue(context: ApiContext, name: string, fields: PublishFields, clientAddress: string): Promise<StoredMessage> {
  const owner = await context.queues.get(name);
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
      return { ...error.toJSON(), message: `messages[${index}]: ${error.message}`, status: error.status };
    }
  }

  app.post('/publish', {
    bodyLimit: config.maxBatchBytes,
    // Items are checked one by one below: one bad item fails alone.
    config: { storableCheckedPerItem: true },
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
