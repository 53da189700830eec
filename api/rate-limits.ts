import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest, RouteShorthandOptions } from 'fastify';
import type { Redis } from 'ioredis';
import { AddressRanges } from '../core/address-ranges.js';
import type { Config } from '../core/config.js';
import { PushwireError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { WindowCounts } from '../core/window-counts.js';
import { tokenIn } from './auth.js';

export type Limited = 'tokens' | 'queues' | 'devices';

export interface RateLimits {
  /** Route options that put a route under one of the limits; routes under the same limit share its counts. */
  limit: (kind: Limited) => RouteShorthandOptions;
  /** Messages per queue on the routes that need only the queue's URL. */
  publishes: QueuePublishLimit;
}

/**
 * Limits that make abuse expensive. Per request (tokens, queues, device registrations):
 * @fastify/rate-limit, counting in Redis when it is configured (every api process shares the
 * counters) or in this process's memory (embedded), keyed by token where the route takes one,
 * else by client address. Per message (a publish to a queue): WindowCounts (see QueuePublishLimit).
 * Addresses in PUSHWIRE_RATE_LIMIT_EXEMPT are never limited. Over a limit: 429 rate_limited with
 * Retry-After.
 */
export async function rateLimits(app: FastifyInstance, config: Config, redis: Redis | null, log: Logger): Promise<RateLimits> {
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
  // One handler per limit, shared by every route under it, so they count together (a route's own
  // `config.rateLimit` would count apart). The handlers share one key space: keys name their limit.
  // Run as preHandler: after the body is parsed, so a token sent in it keys the limit.
  const handlers = Object.fromEntries(Object.entries(limits).map(([kind, { max, keyGenerator }]) => [
    kind, app.rateLimit({ max, timeWindow: 60_000, keyGenerator: (request) => `${kind}:${keyGenerator(request)}` }),
  ])) as Record<Limited, ReturnType<FastifyInstance['rateLimit']>>;
  const publishes = new QueuePublishLimit(config, exempt, redis, log);
  app.addHook('onClose', async () => publishes.close());
  return { limit: (kind) => ({ preHandler: handlers[kind] }), publishes };
}

/**
 * PUSHWIRE_RATE_PUBLISHES_PER_QUEUE_PER_MINUTE, whoever publishes: anyone holding a queue's URL
 * may publish to it, so a leaked URL must not flood its user's devices. Counted per message (a
 * batch names up to PUSHWIRE_MAX_BATCH_MESSAGES queues), so a Redis call per message, as
 * @fastify/rate-limit makes per request, would cost more than the publish: WindowCounts counts
 * in this process and shares through Redis once a second.
 */
export class QueuePublishLimit {
  private readonly counts: WindowCounts;

  /** `exempt`: PUSHWIRE_RATE_LIMIT_EXEMPT, as the per-request limits read it. */
  constructor(private readonly config: Pick<Config, 'ratePublishesPerQueuePerMinute' | 'redisPrefix'>, private readonly exempt: AddressRanges, redis: Redis | null, log: Logger) {
    this.counts = new WindowCounts('publish', redis ? { redis, prefix: config.redisPrefix } : null, log);
  }

  /** Counts a message for the queue, or throws 429 rate_limited when the queue has had its minute's worth. */
  take(queueId: number, clientAddress: string): void {
    if (this.exempt.includes(clientAddress)) return;
    const key = String(queueId);
    if (this.counts.get(key) >= this.config.ratePublishesPerQueuePerMinute) {
      const error = new PushwireError('rate_limited', `This queue has received the most messages allowed this minute (${this.config.ratePublishesPerQueuePerMinute}); retry in ${this.counts.secondsLeft} s.`);
      error.retryAfterSeconds = this.counts.secondsLeft;
      throw error;
    }
    this.counts.add(key);
  }

  close(): void {
    this.counts.close();
  }
}
