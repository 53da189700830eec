import type { FastifyInstance } from 'fastify';
import { randomId } from '../../core/ids.js';
import { queueUrl } from '../../core/message.js';
import type { ApiContext } from '../context.js';

export function tokenRoutes(app: FastifyInstance, { config, store, limit }: ApiContext): void {
  /** A new user: their secret token and their own queue (where their clients read over HTTP). Each is a row kept: limited per address. */
  app.post('/token/', limit('tokens'), async () => {
    const { user, queue } = await store.createUser(randomId(), randomId());
    return { token: user.token, queue: queueUrl(config.publicUrl, queue.name) };
  });
}
