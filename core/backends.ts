import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Bus } from './bus/bus.js';
import { MemoryBus } from './bus/memory.js';
import { ConfigError, type Config } from './config.js';
import type { Logger } from './log.js';
import type { ApplicationStore } from './store/applications.js';
import type { DeviceStore } from './store/devices.js';
import type { PushOutbox } from './store/outbox.js';
import type { MoxieStore } from './store/moxie.js';
import { openSqliteStores } from './store/sqlite/remote.js';
import type { Store } from './store/store.js';
import { MemoryNodeRegistry, MemoryNonceCache, MemoryPresence } from './presence/memory.js';
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
  /** Where rate-limit counters live so every api process shares them; null: each process's memory (embedded). */
  rateLimitRedis: Redis | null;
  close(): Promise<void>;
}

/**
 * The bus: in memory when every role runs in this process (unless told `zeromq`, to test the
 * broker path in one process), else ZeroMQ through the broker. A memory bus in a daemon of its
 * own would reach nobody: refused.
 */
async function openBus(config: Config, log: Logger, role: string, allRolesHere: boolean): Promise<Bus> {
  if (config.bus === 'memory' && !allRolesHere) throw new ConfigError(['PUSHWIRE_BUS=memory works only when every role runs in one process (`npm start`)']);
  if (config.bus === 'memory' || (config.bus === 'auto' && allRolesHere)) return new MemoryBus(log.child({ role: 'bus' }));
  const [{ busEndpoints, ZeroMqBus }, curve] = await Promise.all([import('./bus/zeromq.js'), import('./bus/curve.js')]);
  const endpoints = busEndpoints(config.brokerHost, config.brokerInPort, config.brokerOutPort);
  if (config.busSecurity === 'plain') {
    log.warn({ broker: config.brokerHost }, 'PUSHWIRE_BUS_SECURITY=plain: the bus is not authenticated or encrypted; any local process can read and forge its messages');
    return new ZeroMqBus(endpoints, () => null, log);
  }
  if (allRolesHere) {
    const keys = curve.oneProcessKeys();
    return new ZeroMqBus(endpoints, () => keys.client, log, keys.broker);
  }
  const busRole = curve.BUS_ROLES.find((name) => name === role);
  return new ZeroMqBus(endpoints, () => {
    if (!busRole) throw new Error(`the ${role} daemon has no bus keys`);
    return curve.readClientKeys(config.busKeysDir, busRole);
  }, log);
}

/**
 * The one place that picks implementations: PostgreSQL + Redis when DATABASE_URL and
 * REDIS_URL are set, else embedded SQLite in DATA_DIR + in-process presence (valid only when
 * every role runs in this process). `role`: the daemon's name (its bus keys are its role's);
 * `allRolesHere`: this process runs every role (`npm start`).
 * What is not picked is not even loaded: the clients of ZeroMQ, PostgreSQL and Redis would be
 * ~40 MB of resident memory in an `npm start` that uses none of them.
 */
export async function openBackends(config: Config, log: Logger, role: string, allRolesHere = false): Promise<Backends> {
  const bus = await openBus(config, log, role, allRolesHere);
  const { databaseUrl, redisUrl } = config;
  if (databaseUrl && redisUrl) {
    const { openServerBackends } = await import('./server-backends.js');
    return { ...(await openServerBackends({ ...config, databaseUrl, redisUrl }, log)), bus };
  }
  // Until 2026-12-03 the embedded store was PGlite, whose directory holds PG_VERSION. This version
  // cannot read it: say so at every start, or its messages would look lost.
  if (existsSync(join(config.dataDir, 'PG_VERSION'))) {
    log.warn({ dataDir: config.dataDir }, 'DATA_DIR also holds the PGlite database of an earlier Pushwire, which this version does not read: its messages are not served. Move it out of DATA_DIR to silence this.');
  }
  const stores = await openSqliteStores(config.dataDir);
  return { ...stores, presence: new MemoryPresence(), nodes: new MemoryNodeRegistry(), nonces: new MemoryNonceCache(), bus, rateLimitRedis: null, close: () => stores.store.close() };
}
