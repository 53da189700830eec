import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { PushwireError } from '../core/errors.js';
import type { Queue, Store, User } from '../core/store/store.js';

/** The token a request carries, if any: the X-Auth-Token header, else a `token` query or body field. */
export function tokenIn(request: FastifyRequest): string | undefined {
  const header = request.headers['x-auth-token'];
  const query = (request.query as Record<string, unknown> | undefined)?.token;
  const body = (request.body as Record<string, unknown> | undefined | null)?.token;
  return [header, query, body].find((value): value is string => typeof value === 'string' && value.length > 0);
}

/** The token of a request; 400 missing_token without one (as the original service answered a missing `token`). */
export function tokenOf(request: FastifyRequest): string {
  const token = tokenIn(request);
  if (token === undefined) throw new PushwireError('missing_token', undefined, { location: 'body', name: 'token' });
  return token;
}

/** The request's user; the request counts as their activity (app.ts records it, keeping the token from expiring as idle). */
export async function requireUser(store: Store, request: FastifyRequest): Promise<User> {
  const user = await store.userByToken(tokenOf(request));
  if (!user) throw new PushwireError('invalid_token');
  request.activeUser = user.id;
  return user;
}

export async function requireQueue(store: Store, name: string): Promise<Queue> {
  const queue = await store.queueByName(name);
  if (!queue) throw new PushwireError('queue_not_found');
  return queue;
}

/** The queue, provided the request's token owns it: 400 without a token, 401 with an unknown one, 404 for another user's queue. */
export async function requireOwnQueue(store: Store, request: FastifyRequest, name: string): Promise<{ user: User; queue: Queue }> {
  tokenOf(request);
  const queue = await requireQueue(store, name);
  const user = await requireUser(store, request);
  // Another user's queue is not found, as in the original service: its URL is a secret this token does not hold.
  if (queue.userId !== user.id) throw new PushwireError('queue_not_found');
  return { user, queue };
}

/**
 * The queue, for its owner: by the owner's token or, for a user's own queue, by its URL alone.
 * Only the token's holder was given that URL (the original service named it after the token), so
 * clients of the original read and mark their messages with the URL, as they did there.
 */
export async function requireQueueOwner(store: Store, request: FastifyRequest, name: string): Promise<{ userId: number; queue: Queue }> {
  if (tokenIn(request) === undefined) {
    const queue = await store.queueByName(name);
    if (queue?.domain === null) {
      request.activeUser = queue.userId;
      return { userId: queue.userId, queue };
    }
  }
  const { user, queue } = await requireOwnQueue(store, request, name);
  return { userId: user.id, queue };
}

/** Application routes: `Authorization: Bearer <PUSHWIRE_ADMIN_TOKEN>`, compared in constant time. */
export function requireAdmin(request: FastifyRequest, adminToken: string | undefined): void {
  if (!adminToken) throw new PushwireError('admin_disabled');
  const authorization = String(request.headers.authorization ?? '');
  if (!authorization) throw new PushwireError('missing_token', 'This route needs `Authorization: Bearer <admin token>`.');
  // Only the Bearer scheme: a token sent bare (or as Basic) is a client error to fix, not a credential.
  const bearer = /^Bearer\s+(.+)$/i.exec(authorization);
  if (!bearer) throw new PushwireError('invalid_token', 'Send the admin token as `Authorization: Bearer <admin token>`.');
  const given = Buffer.from(bearer[1]);
  const expected = Buffer.from(adminToken);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new PushwireError('invalid_token', 'Wrong admin token.');
}
