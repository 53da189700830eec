import type { RouteShorthandOptions } from 'fastify';
import type { Redis } from 'ioredis';
import type { Activity } from '../core/activity.js';
import type { Config } from '../core/config.js';
import type { NodeRegistry, NonceCache } from '../core/presence/presence.js';
import type { MoxieStore } from '../core/store/moxie.js';
import type { ApplicationStore } from '../core/store/applications.js';
import type { DeviceStore } from '../core/store/devices.js';
import type { PushOutbox } from '../core/store/outbox.js';
import type { Store } from '../core/store/store.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { Publisher } from './publisher.js';
import type { QueueOwners } from './queue-owners.js';
import type { Limited, QueuePublishLimit } from './rate-limits.js';

/** What the routes need, passed in once. */
export interface ApiContext {
  config: Config;
  store: Store;
  devices: DeviceStore;
  outbox: PushOutbox;
  applications: ApplicationStore;
  nodes: NodeRegistry;
  moxie: MoxieStore;
  nonces: NonceCache;
  publisher: Publisher;
  /** Queue name → owner for publishing, cached. */
  queues: QueueOwners;
  /** Direct sends of the compatibility APIs (Pushlet, pushjack) that answer with provider results. */
  providers: ProviderRegistry;
  rateLimitRedis: Redis | null;
  /** Users seen in requests, recorded so their tokens do not expire as idle. */
  activity: Activity;
  /** Route options that put a route under a rate limit (rate-limits.ts); set by buildApi. */
  limit: (kind: Limited) => RouteShorthandOptions;
  /** Messages per queue on the routes that need only its URL; set by buildApi. */
  publishes: QueuePublishLimit;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The user a request authenticated as (requireUser), for activity. */
    activeUser: number | null;
  }
}
