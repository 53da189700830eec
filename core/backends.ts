import { mkdirSync } from 'node:fs';
import { Redis } from 'ioredis';
import type { Bus } from './bus/bus.js';
import { MemoryBus } from './bus/memory.js';
import { busEndpoints, ZeroMqBus } from './bus/zeromq.js';
import { ConfigError, type Config } from './config.js';
import type { Logger } from './log.js';
import type { ApplicationStore } from './store/applications.js';
import { PgDb, PgliteDb, type Db } from './store/db.js';
import type { DeviceStore } from './store/devices.js';
import type { PushOutbox } from './store/outbox.js';
import { SqlApplications } from './store/sql-applications.js';
import { SqlMoxie } from './store/sql-moxie.js';
import type { MoxieStore } from './store/moxie.js';
import { SqlDevices } from './store/sql-devices.js';
import { SqlOutbox } from './store/sql-outbox.js';
import { SqlStore } from './store/sql-store.js';
import { openSqliteStores } from './store/sqlite/remote.js';
import type { Store } from './store/store.js';
import { MemoryNodeRegistry, MemoryNonceCache, MemoryPresence } from './presence/memory.js';
import { RedisNodeRegistry, RedisNonceCache, RedisPresence } from './presence/redis.js';
import type { NodeRegistry, NonceCache, Presence } from './presence/presence.js';

export interface Backends {
  store: Store;
  devices: DeviceStore;
  outbox: PushOutbox;
  applications: ApplicationStore;
  moxie: MoxieStore;
  presence: Presence;
  nodes: NodeRegistry;
  nonces: NonceCache;
  bus: Bus;
  close(): Promise<void>;
}

/**
 * The bus: in memory when every role runs in this process (unless told `zeromq`, to test the
 * broker path in one process), else ZeroMQ through the broker. A memory bus in a daemon of its
 * own would reach nobody: refused.
 */
function openBus(config: Config, log: Logger, allRolesHere: boolean): Bus {
  if (config.bus === 'memory' && !allRolesHere) throw new ConfigError(['PUSHWIRE_BUS=memory works only when every role runs in one process (`npm start`)']);
  if (config.bus === 'memory' || (config.bus === 'auto' && allRolesHere)) return new MemoryBus(log.child({ role: 'bus' }));
  return new ZeroMqBus(busEndpoints(config.brokerHost, config.brokerInPort, config.brokerOutPort), log);
}

/** Everything that lives in the database, over one connection pool. */
async function sqlBackends(db: Db): Promise<Pick<Backends, 'store' | 'devices' | 'outbox' | 'applications' | 'moxie'>> {
  const store = new SqlStore(db);
  await store.migrate();
  return { store, devices: new SqlDevices(db), outbox: new SqlOutbox(db), applications: new SqlApplications(db), moxie: new SqlMoxie(db) };
}

async function pgliteBackends(config: Config): Promise<Pick<Backends, 'store' | 'devices' | 'outbox' | 'applications' | 'moxie'>> {
  mkdirSync(config.dataDir, { recursive: true });
  return sqlBackends(await PgliteDb.open(config.dataDir, config.pgliteSharedBuffers));
}

/**
 * The one place that picks implementations: PostgreSQL + Redis when DATABASE_URL and
 * REDIS_URL are set, else the embedded database (SQLite or PGlite) in DATA_DIR + in-process presence (valid only when
 * every role runs in this process). Migrations run here, so every daemon finds the schema.
 * `allRolesHere`: this process runs every role (`npm start`).
 */
export async function openBackends(config: Config, log: Logger, allRolesHere = false): Promise<Backends> {
  const bus = openBus(config, log, allRolesHere);
  if (config.databaseUrl && config.redisUrl) {
    const sql = await sqlBackends(new PgDb(config.databaseUrl, (error) => log.warn({ err: error }, 'idle database connection lost')));
    const redis = new Redis(config.redisUrl, {
      lazyConnect: true, maxRetriesPerRequest: 3,
      // Commands issued in one turn of the event loop share one write: a reconnect storm's
      // thousands of presence updates cost a few system calls, not thousands.
      enableAutoPipelining: true,
    });
    redis.on('error', (error) => log.warn({ err: error }, 'redis connection error'));
    await redis.connect();
    return {
      ...sql,
      presence: new RedisPresence(redis, config.redisPrefix),
      nodes: new RedisNodeRegistry(redis, config.redisPrefix),
      nonces: new RedisNonceCache(redis, config.redisPrefix),
      bus,
      close: async () => {
        await sql.store.close();
        redis.disconnect();
      },
    };
  }
  const sql = config.embeddedStore === 'sqlite' ? await openSqliteStores(config.dataDir) : await pgliteBackends(config);
  return { ...sql, presence: new MemoryPresence(), nodes: new MemoryNodeRegistry(), nonces: new MemoryNonceCache(), bus, close: () => sql.store.close() };
}
