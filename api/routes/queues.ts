import type { FastifyInstance } from 'fastify';
import { PushwireError } from '../../core/errors.js';
import { randomId } from '../../core/ids.js';
import { queueUrl } from '../../core/message.js';
import { requireOwnQueue, requireUser } from '../auth.js';
import type { ApiContext } from '../context.js';
import { ownerOf } from '../queue-owners.js';
import { boolean, object, string } from '../schemas.js';

const queueParams = {
  type: 'object',
  properties: { queue: { type: 'string', minLength: 1, maxLength: 64, description: 'The queue\'s name: the last segment of its URL.' } },
  required: ['queue'],
} as const;

/** Routes of a token's user: the token in X-Auth-Token (or a `token` field). */
const asUser = [{ token: [] }];

export { asUser, queueParams };

export function queueRoutes(app: FastifyInstance, { config, store, queues, limit }: ApiContext): void {
  const url = (name: string) => queueUrl(config.publicUrl, name);

  /** A queue (push URL) of this user for a domain; the same one again if it exists. */
  app.post('/queue/', {
    ...limit('queues'),
    schema: {
      tags: ['users'], summary: 'A queue (push URL) of the user for a domain', security: asUser,
      description: 'The same queue again when the user already has one for the domain.',
      body: {
        type: 'object',
        properties: {
          token: { type: 'string', minLength: 1, maxLength: 64 },
          domain: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[^\\s]+$' },
        },
        required: ['domain'],
      },
      response: { 200: object({ queue: string }) },
    },
  }, async (request) => {
    const user = await requireUser(store, request);
    const { domain } = request.body as { domain: string };
    const existing = (await store.queuesOf(user.id)).find((queue) => queue.domain === domain);
    if (existing) return { queue: url(existing.name) };
    if ((await store.queueCount(user.id)) >= config.maxQueuesPerToken) throw new PushwireError('too_many_queues');
    const queue = await store.queueForDomain(user.id, domain, randomId());
    queues.remember(ownerOf(queue));
    return { queue: url(queue.name) };
  });

  /** Every domain queue of the user, as {domain: queueURL}, so clients can sync. */
  app.get('/queue/', {
    schema: {
      tags: ['users'], summary: 'The user\'s domain queues', security: asUser,
      querystring: { type: 'object', properties: { token: string } },
      response: { 200: { type: 'object', description: 'domain → queue URL', additionalProperties: string } },
    },
  }, async (request) => {
    const user = await requireUser(store, request);
    const queues = await store.queuesOf(user.id);
    return Object.fromEntries(queues.filter((queue) => queue.domain !== null).map((queue) => [queue.domain, url(queue.name)]));
  });

  /** Destroys a push URL: its site can no longer reach the user. */
  app.delete('/queue/:queue/', {
    schema: {
      tags: ['users'], summary: 'Destroys a push URL', security: asUser, params: queueParams,
      querystring: { type: 'object', properties: { token: string } },
      response: { 200: object({ queue: string, deleted: boolean }) },
    },
  }, async (request) => {
    const { queue } = await requireOwnQueue(store, request, (request.params as { queue: string }).queue);
    if (queue.domain === null) throw new PushwireError('forbidden', 'A token\'s own queue cannot be deleted.');
    await store.deleteQueue(queue.id);
    queues.forget(queue.name);
    return { queue: url(queue.name), deleted: true };
  });
}
