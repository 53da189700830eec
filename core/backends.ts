import { mkdirSync } from 'node:fs';
import { Redis } from 'ioredis';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import { PgDb, PgliteDb } from './store/db.js';
import { SqlStore } from './store/sql-store.js';
import type { Store } from './store/store.js';
import { MemoryNodeRegistry, MemoryPresence } from './presence/memory.js';
import { RedisNodeRegistry, RedisPresence } from './presence/redis.js';
import type { NodeRegistry, Presence } from './presence/presence.js';

export interface Backends {
  store: Store;
  presence: Presence;
  nodes: NodeRegistry;
  close(): Promise<void>;
}

/**
 * The one place that picks implementations: PostgreSQL + Redis when DATABASE_URL and
 * REDIS_URL are set, else embedded PGlite in DATA_DIR + in-process presence (valid only when
 * every role runs in this process). Migrations run here, so every daemon finds the schema.
 */
export async function openBackends(config: Config, log: Logger): Promise<Backends> {
  if (config.databaseUrl && config.redisUrl) {
    const store = new SqlStore(new PgDb(config.databaseUrl, (error) => log.warn({ err: error }, 'idle database connection lost')));
    const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 3 });
    redis.on('error', (error) => log.warn({ err: error }, 'redis connection error'));
    await redis.connect();
    await store.migrate();
    return {
      store,
      presence: new RedisPresence(redis, config.redisPrefix),
      nodes: new RedisNodeRegistry(redis, config.redisPrefix),
      close: async () => {
        await store.close();
        redis.disconnect();
      },
    };
  }
  mkdirSync(config.dataDir, { recursive: true });
  const store = new SqlStore(await PgliteDb.open(config.dataDir));
  await store.migrate();
  return { store, presence: new MemoryPresence(), nodes: new MemoryNodeRegistry(), close: () => store.close() };
}
