import t, { type Test } from 'tap';
import { Redis } from 'ioredis';
import { MemoryNodeRegistry, MemoryPresence } from '../core/presence/memory.js';
import type { NodeRegistry, Presence } from '../core/presence/presence.js';
import { RedisNodeRegistry, RedisPresence } from '../core/presence/redis.js';
import { redisPrefix, TEST_REDIS_URL } from './helpers/services.js';

/** One suite for both implementations: Redis (multi-process) and in-process (embedded). */
function presenceSuite(t: Test, name: string, make: () => { presence: Presence; nodes: NodeRegistry }): void {
  t.test(name, async (t) => {
    const { presence, nodes } = make();

    t.test('sockets counted per user and gateway', async (t) => {
      await presence.add(1, 'gw-a');
      await presence.add(1, 'gw-a');
      await presence.add(1, 'gw-b');
      t.same((await presence.gatewaysOf(1)).sort(), ['gw-a', 'gw-b']);
      await presence.remove(1, 'gw-a');
      t.same((await presence.gatewaysOf(1)).sort(), ['gw-a', 'gw-b'], 'one socket left on gw-a');
      await presence.remove(1, 'gw-a');
      t.same(await presence.gatewaysOf(1), ['gw-b']);
      await presence.remove(1, 'gw-b');
      t.same(await presence.gatewaysOf(1), [], 'offline');
    });

    t.test('a dead gateway takes its sockets with it', async (t) => {
      await presence.add(2, 'gw-dead');
      await presence.add(3, 'gw-dead');
      await presence.add(3, 'gw-live');
      await presence.dropGateway('gw-dead');
      t.same(await presence.gatewaysOf(2), []);
      t.same(await presence.gatewaysOf(3), ['gw-live']);
    });

    t.test('acks never move backwards', async (t) => {
      t.equal(await presence.acked(4), 0);
      await presence.ack(4, 10);
      await presence.ack(4, 7);
      t.equal(await presence.acked(4), 10);
    });

    t.test('node registry', async (t) => {
      const node = { id: 'g1', address: '127.0.0.1:1', connections: 3, messagesPerSecond: 0, p99LatencyMs: null, startedAt: 1, lastSeen: 2, transport: 'uws', node: 'v20.0.0' };
      await nodes.upsert(node);
      await nodes.upsert({ ...node, connections: 4 });
      t.same(await nodes.list(), [{ ...node, connections: 4 }]);
      await nodes.remove('g1');
      t.same(await nodes.list(), []);
    });
  });
}

presenceSuite(t, 'memory', () => ({ presence: new MemoryPresence(), nodes: new MemoryNodeRegistry() }));

const redis = new Redis(TEST_REDIS_URL);
const prefix = redisPrefix();
t.teardown(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});
presenceSuite(t, 'redis', () => ({ presence: new RedisPresence(redis, prefix), nodes: new RedisNodeRegistry(redis, prefix) }));
