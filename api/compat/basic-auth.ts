import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PushwireError } from '../../core/errors.js';

const same = (a: string, b: string) => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

/** An onRequest hook for HTTP basic auth against configured credentials (none configured: nobody passes). */
export function basicAuth(user: string | undefined, password: string | undefined, realm: string) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const [scheme, encoded] = String(request.headers.authorization ?? '').split(' ');
    const [givenUser, ...rest] = Buffer.from(encoded ?? '', 'base64').toString().split(':');
    if (user && password && scheme?.toLowerCase() === 'basic' && same(givenUser, user) && same(rest.join(':'), password)) return;
    void reply.header('www-authenticate', `Basic realm="${realm}"`);
    throw new PushwireError('unauthorized', user ? 'Wrong or missing HTTP basic auth credentials.' : `Set PUSHWIRE_${realm.toUpperCase()}_USER and PUSHWIRE_${realm.toUpperCase()}_PASSWORD to use this API.`);
  };
}
