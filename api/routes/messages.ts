import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PushwireError } from '../../core/errors.js';
import { decodeKey, formatTimestamp, parseSince, parseTimestamp } from '../../core/ids.js';
import { MARKER_REPLACE_ID, queueUrl, toEnvelope, type StoredMessage } from '../../core/message.js';
import type { Queue, User } from '../../core/store/store.js';
import { requireOwnQueue } from '../auth.js';
import { publishSchema, publishValidator } from '../publish-schema.js';
import { BODY_OPTIONAL, bodyCheckedByHandler, boolean, nullable, object, ref, string } from '../schemas.js';
import type { ApiContext } from '../context.js';
import { publishToQueue } from './publish.js';
import { asUser, queueParams } from './queues.js';

export function messageRoutes(app: FastifyInstance, context: ApiContext): void {
  const { config, store, publisher } = context;
  const envelope = (message: StoredMessage) => toEnvelope(message, config.publicUrl);
  const validatePublish = publishValidator(config);

  /**
   * Publish (public: sites hold the unguessable queue URL), or with `?action=read&key=K` mark
   * a message read (the owner only). Answers after the message is durably stored.
   */
  app.post('/queue/:queue/', {
    // No body with ?action=read, and a missing title is its own code: the handler validates.
    config: bodyCheckedByHandler(publishSchema(config), { optional: true }),
    schema: {
      tags: ['messages'], summary: 'Publish a message, or mark one read',
      description: 'Public: a site holds the queue\'s unguessable URL. Answers once the message is stored. '
        + 'With `?action=read&key=K` (the owner\'s token), marks that message read and answers the read mark.',
      params: queueParams,
      querystring: {
        type: 'object',
        properties: { action: { type: 'string', description: 'The only action is `read`.' }, key: { type: 'string', maxLength: 64 }, token: { type: 'string' } },
      },
      response: { 200: ref('Envelope') },
    },
  }, async (request) => {
    const { queue: name } = request.params as { queue: string };
    const { action, key } = request.query as { action?: string; key?: string };
    if (action === 'read') return envelope(await markRead(request, name, key));
    if (action !== undefined) throw new PushwireError('bad_action', `Unknown action "${action}"; the only action is "read".`);
    return envelope(await publishToQueue(context, name, validatePublish(request.body), request.ip));
  });

  async function markRead(request: FastifyRequest, name: string, key: string | undefined): Promise<StoredMessage> {
    const { user, queue } = await requireOwnQueue(store, request, name);
    const position = key === undefined ? null : decodeKey(key);
    if (!position || position.userId !== user.id) throw new PushwireError('bad_key', '`key` must be the key of one of this token\'s messages.');
    if (!(await store.hasMessage(user.id, position.seq))) throw new PushwireError('message_not_found');
    return publisher.publish({
      queueId: queue.id, queue: queue.name, userId: user.id, kind: 'read', replaceId: null, body: { read: key }, ttlSeconds: config.messageTtlSeconds,
    });
  }

  /** Stored messages of the queue, oldest first; with `since`, collapsed by replaceId. */
  app.get('/queue/:queue/', {
    schema: {
      tags: ['messages'], summary: 'Stored messages of the queue, oldest first', security: asUser,
      description: 'With `since` (a key or seconds since the epoch), only later messages, collapsed by replaceId.',
      params: queueParams,
      querystring: {
        type: 'object',
        properties: {
          since: { type: 'string', minLength: 1, maxLength: 64 },
          limit: { type: 'integer', minimum: 1, maximum: config.maxLimit },
          token: { type: 'string' },
        },
      },
      response: {
        200: object({
          messages: { type: 'array', items: ref('Envelope') },
          more: { ...boolean, description: 'More messages follow: ask again with `since` the last key.' },
          truncated: { ...boolean, description: 'Retention removed messages after `since` that were never read here.' },
          timestamp: { ...nullable('string'), description: 'The queue\'s read marker.' },
        }),
      },
    },
  }, async (request) => {
    const { user, queue } = await requireOwnQueue(store, request, (request.params as { queue: string }).queue);
    const { since, limit } = request.query as { since?: string; limit?: number };
    const position = since === undefined ? undefined : parseSince(since, user.id);
    if (position === null) throw new PushwireError('bad_since');
    const result = await store.read({
      userId: user.id, queueId: queue.id, since: position, limit: limit ?? config.defaultLimit, collapse: position !== undefined,
    });
    return {
      messages: result.messages.map(envelope),
      more: result.more,
      truncated: result.truncated,
      timestamp: queue.readMicros === null ? null : formatTimestamp(queue.readMicros),
    };
  });

  /** Moves the queue's read marker (default: now) and tells the user's other clients. */
  app.put('/queue/:queue/', {
    schema: {
      tags: ['messages'], summary: 'Moves the queue\'s read marker', security: asUser, [BODY_OPTIONAL]: true,
      description: 'To `timestamp` (seconds since the epoch; default now); the user\'s other clients are told.',
      params: queueParams,
      querystring: { type: 'object', properties: { token: string } },
      body: { type: ['object', 'null'], properties: { timestamp: { type: 'string', maxLength: 32 }, token: { type: 'string' } } },
      response: { 200: object({ queue: string, timestamp: string }) },
    },
  }, async (request) => {
    const { user, queue } = await requireOwnQueue(store, request, (request.params as { queue: string }).queue);
    const given = (request.body as { timestamp?: string } | null)?.timestamp;
    const micros = given === undefined ? Date.now() * 1000 : parseTimestamp(given);
    if (micros === null) throw new PushwireError('invalid_field', '`timestamp` must be seconds since the epoch.');
    return { queue: queueUrl(config.publicUrl, queue.name), timestamp: formatTimestamp(await setMarker(user, queue, micros)) };
  });

  async function setMarker(user: User, queue: Queue, micros: number): Promise<number> {
    await store.setReadMarker(queue.id, micros);
    await publisher.publish({
      queueId: queue.id, queue: queue.name, userId: user.id, kind: 'marker', replaceId: MARKER_REPLACE_ID,
      body: { timestamp: formatTimestamp(micros) }, ttlSeconds: config.messageTtlSeconds,
    });
    return micros;
  }
}
