import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest, RouteShorthandOptions } from 'fastify';
import type { Redis } from 'ioredis';
import { AddressRanges } from '../core/address-ranges.js';
import type { Config } from '../core/config.js';
import { PushwireError } from '../core/errors.js';
import { tokenIn } from './auth.js';

export type Limited = 'tokens' | 'queues' | 'devices';

/**
 * Per-route limits that make abuse expensive: @fastify/rate-limit, counting in Redis when it is
 * configured (every api process shares the counters) or in this process's memory (embedded).
 * Keyed by token where the route takes one, else by client address; addresses in
 * PUSHWIRE_RATE_LIMIT_EXEMPT are never limited. Over the limit: 429 rate_limited, Retry-After.
 * Returns the route options that put a route under one of the limits.
 */
export async function rateLimits(app: FastifyInstance, config: Config, redis: Redis | null): Promise<(kind: Limited) => RouteShorthandOptions> {
  const exempt = new AddressRanges(config.rateLimitExempt);
  await app.register(rateLimit, {
    global: false,
    ...(redis ? { redis, nameSpace: `${config.redisPrefix}rl:` } : {}),
    allowList: (request) => exempt.includes(request.ip),
    // Counting must not fail publishing's neighbours: if Redis is down, the request goes through.
    skipOnError: true,
    errorResponseBuilder: (_request, context) => new PushwireError('rate_limited', `Too many requests; retry in ${context.after}.`),
  });
  // The token the route itself authenticates with (auth.ts), else the client's address.
  const byTokenOrAddress = (request: FastifyRequest) => {
    const token = tokenIn(request);
    return token === undefined ? `a:${request.ip}` : `t:${token}`;
  };
  const limits: Record<Limited, { max: number; keyGenerator: (request: FastifyRequest) => string }> = {
    tokens: { max: config.rateTokensPerMinute, keyGenerator: (request) => `a:${request.ip}` },
    queues: { max: config.rateQueuesPerMinute, keyGenerator: byTokenOrAddress },
    devices: { max: config.rateDevicesPerMinute, keyGenerator: byTokenOrAddress },
  };
  // preHandler: after the body is parsed, so a token sent in it keys the limit. Each route counts
  // apart (the library keeps a counter per route).
  return (kind) => ({ config: { rateLimit: { ...limits[kind], timeWindow: 60_000, hook: 'preHandler' } } });
}
