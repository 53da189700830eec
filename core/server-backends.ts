import { Redis } from 'ioredis';
import type { Backends } from './backends.js';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import { RedisNodeRegistry, RedisNonceCache, RedisPresence } from './presence/redis.js';
import { PgDb } from './store/db.js';
import { SqlApplications } from './store/sql-applications.js';
import { SqlDevices } from './store/sql-devices.js';
import { SqlMoxie } from './store/sql-moxie.js';
import { SqlOutbox } from './store/sql-outbox.js';
import { SqlStore } from './store/sql-store.js';

/**
 * The backends of a deployment: everything durable in PostgreSQL (one connection pool),
 * presence and the gateway registry in Redis. Migrations run here, so every daemon finds the
 * schema. Only backends.ts imports this module, and only when it is configured.
 */
export async function openServerBackends(config: Config & { databaseUrl: string; redisUrl: string }, log: Logger): Promise<Omit<Backends, 'bus'>> {
  const db = new PgDb(config.databaseUrl, (error) => log.warn({ err: error }, 'idle database connection lost'));
  const store = new SqlStore(db);
  await store.migrate();
  const redis = new Redis(config.redisUrl, {
    lazyConnect: true, maxRetriesPerRequest: 3,
    // Commands issued in one turn of the event loop share one write: a reconnect storm's
    // thousands of presence updates cost a few system calls, not thousands.
    enableAutoPipelining: true,
  });
  redis.on('error', (error) => log.warn({ err: error }, 'redis connection error'));
  await redis.connect();
  return {
    store,
    devices: new SqlDevices(db),
    outbox: new SqlOutbox(db),
    applications: new SqlApplications(db),
    moxie: new SqlMoxie(db),
    presence: new RedisPresence(redis, config.redisPrefix),
    nodes: new RedisNodeRegistry(redis, config.redisPrefix),
    nonces: new RedisNonceCache(redis, config.redisPrefix),
    rateLimitRedis: redis,
    close: async () => {
      await store.close();
      redis.disconnect();
    },
  };
}
