import type { FastifyInstance } from 'fastify';
import { randomId } from '../../core/ids.js';
import { queueUrl } from '../../core/message.js';
import type { ApiContext } from '../context.js';
import { ownerOf } from '../queue-owners.js';
import { object, string } from '../schemas.js';

export function tokenRoutes(app: FastifyInstance, { config, store, limit, queues }: ApiContext): void {
  /** A new user: their secret token and their own queue (where their clients read over HTTP). Each is a row kept: limited per address. */
  app.post('/token/', {
    ...limit('tokens'),
    schema: {
      tags: ['users'], summary: 'A new user: their token and their own queue',
      response: { 200: object({ token: string, queue: { type: 'string', description: 'The user\'s own queue URL.' } }) },
    },
  }, async () => {
    const { user, queue } = await store.createUser(randomId(), randomId());
    queues.remember(ownerOf(queue));
    return { token: user.token, queue: queueUrl(config.publicUrl, queue.name) };
  });
}
