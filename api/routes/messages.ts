import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PushwireError } from '../../core/errors.js';
import { decodeKey, formatTimestamp, parseSince, parseTimestamp } from '../../core/ids.js';
import { MARKER_REPLACE_ID, publishAnswer, queueUrl, toEnvelope, type StoredMessage } from '../../core/message.js';
import type { Queue } from '../../core/store/store.js';
import { requireQueueOwner } from '../auth.js';
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
   * Publish (public: sites hold the unguessable queue URL), or with `action=read&key=K` (in the
   * query or, as the original service took it, in a form body) mark a message read (the owner only).
   * Answers after the message is durably stored.
   */
  app.post('/queue/:queue/', {
    // No body with ?action=read, and a missing title is its own code: the handler validates.
    config: bodyCheckedByHandler({
      content: {
        'application/json': { schema: publishSchema(config) },
        'application/x-www-form-urlencoded': {
          schema: {
            anyOf: [
              publishSchema(config),
              { type: 'object', required: ['action'], properties: { action: { const: 'read' }, key: { type: 'string' }, token: { type: 'string' } }, description: 'A read mark, as the original service took it.' },
            ],
          },
        },
      },
    }, { optional: true }),
    schema: {
      tags: ['messages'], summary: 'Publish a message, or mark one read',
      description: 'Public: a site holds the queue\'s unguessable URL. Answers once the message is stored. '
        + 'With `action=read&key=K` in the query or a form body (the owner\'s token, or the user\'s own queue URL), marks that message read and answers the read mark.',
      params: queueParams,
      querystring: {
        type: 'object',
        properties: { action: { type: 'string', description: 'The only action is `read`.' }, key: { type: 'string', maxLength: 64 }, token: { type: 'string' } },
      },
      response: { 200: ref('PublishAnswer') },
    },
  }, async (request) => {
    const { queue: name } = request.params as { queue: string };
    const query = request.query as { action?: string; key?: string };
    // In a form body, as the original service took it (a JSON body is a message: `action` is not one of its fields).
    const form = String(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
    const body = (form && typeof request.body === 'object' && request.body !== null ? request.body : {}) as { action?: unknown; key?: unknown };
    const action = query.action ?? (body.action === 'read' ? 'read' : undefined);
    if (action === 'read') return publishAnswer(await markRead(request, name, query.key ?? (typeof body.key === 'string' ? body.key : undefined)), config.publicUrl);
    if (action !== undefined) throw new PushwireError('bad_action', `Unknown action "${action}"; the only action is "read".`);
    return publishAnswer(await publishToQueue(context, name, validatePublish(request.body), request.ip), config.publicUrl);
  });

  async function markRead(request: FastifyRequest, name: string, key: string | undefined): Promise<StoredMessage> {
    const { userId, queue } = await requireQueueOwner(store, request, name);
    // No key is a message not found, as in the original service.
    if (!key) throw new PushwireError('message_not_found', 'Mark read needs the `key` of one of this user\'s messages.', { location: 'body', name: 'key' });
    const position = decodeKey(key);
    if (!position || position.userId !== userId) throw new PushwireError('bad_key', '`key` must be the key of one of this token\'s messages.', { location: 'body', name: 'key' });
    if (!(await store.hasMessage(userId, position.seq))) throw new PushwireError('message_not_found');
    return publisher.publish({
      queueId: queue.id, queue: queue.name, userId, kind: 'read', replaceId: null, body: { read: key }, ttlSeconds: config.messageTtlSeconds,
    });
  }

  /** Stored messages of the queue, oldest first; with `since`, collapsed by replaceId. */
  app.get('/queue/:queue/', {
    schema: {
      tags: ['messages'], summary: 'Stored messages of the queue, oldest first', security: [...asUser, {}],
      description: 'With `since` (a key or seconds since the epoch), only later messages, collapsed by replaceId. '
        + 'The user\'s own queue (from POST /token/) holds all of the user\'s messages, and its URL alone reads it.',
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
    const { userId, queue } = await requireQueueOwner(store, request, (request.params as { queue: string }).queue);
    const { since, limit } = request.query as { since?: string; limit?: number };
    const position = since === undefined ? undefined : parseSince(since, userId);
    if (position === null) throw new PushwireError('bad_since');
    const result = await store.read({
      // The user's own queue shows all of the user's messages, as in the original service.
      userId, queueId: queue.domain === null ? undefined : queue.id, since: position, limit: limit ?? config.defaultLimit, collapse: position !== undefined,
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
      tags: ['messages'], summary: 'Moves the queue\'s read marker', security: [...asUser, {}], [BODY_OPTIONAL]: true,
      description: 'To `timestamp` (seconds since the epoch; default now); the user\'s other clients are told.',
      params: queueParams,
      querystring: { type: 'object', properties: { token: string } },
      body: { type: ['object', 'null'], properties: { timestamp: { type: 'string', maxLength: 32 }, token: { type: 'string' } } },
      response: { 200: object({ queue: string, timestamp: string }) },
    },
  }, async (request) => {
    const { userId, queue } = await requireQueueOwner(store, request, (request.params as { queue: string }).queue);
    const given = (request.body as { timestamp?: string } | null)?.timestamp;
    const micros = given === undefined ? Date.now() * 1000 : parseTimestamp(given);
    if (micros === null) throw new PushwireError('invalid_field', '`timestamp` must be seconds since the epoch.');
    return { queue: queueUrl(config.publicUrl, queue.name), timestamp: formatTimestamp(await setMarker(userId, queue, micros)) };
  });

  async function setMarker(userId: number, queue: Queue, micros: number): Promise<number> {
    await store.setReadMarker(queue.id, micros);
    await publisher.publish({
      queueId: queue.id, queue: queue.name, userId, kind: 'marker', replaceId: MARKER_REPLACE_ID,
      body: { timestamp: formatTimestamp(micros) }, ttlSeconds: config.messageTtlSeconds,
    });
    return micros;
  }
}
