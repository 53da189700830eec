import { Redis } from 'ioredis';
import type { NodeInfo, NodeRegistry, NonceCache, Presence } from './presence.js';

/**
 * Keys (all under the configured prefix):
 *   user:{id}     hash gatewayId → live socket count
 *   gw:{id}       set of user ids with a socket on that gateway (to drop a dead gateway)
 *   acked         hash userId → acknowledged seq
 *   nodes         hash gatewayId → NodeInfo JSON
 */
const ADD = `
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('SADD', KEYS[2], ARGV[2])`;

const REMOVE = `
local left = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if left <= 0 then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('SREM', KEYS[2], ARGV[2])
end`;

const ACK = `
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) > current then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end`;

/** Which of KEYS exist, as 1/0 in order: one command for a whole publish batch. */
const EXISTING = `
local found = {}
for i, key in ipairs(KEYS) do found[i] = redis.call('EXISTS', key) end
return found`;

export class RedisPresence implements Presence {
  constructor(private readonly redis: Redis, private readonly prefix: string) {
    if (!('pushwireExisting' in redis)) redis.defineCommand('pushwireExisting', { lua: EXISTING });
  }

  async add(userId: number, gatewayId: string): Promise<void> {
    await this.redis.eval(ADD, 2, this.userKey(userId), this.gatewayKey(gatewayId), gatewayId, String(userId));
  }

  async remove(userId: number, gatewayId: string): Promise<void> {
    await this.redis.eval(REMOVE, 2, this.userKey(userId), this.gatewayKey(gatewayId), gatewayId, String(userId));
  }

  async gatewaysOf(userId: number): Promise<string[]> {
    return this.redis.hkeys(this.userKey(userId));
  }

  async online(userIds: readonly number[]): Promise<Set<number>> {
    if (userIds.length === 0) return new Set();
    const existing = this.redis as unknown as { pushwireExisting(count: number, ...keys: string[]): Promise<number[]> };
    const found = await existing.pushwireExisting(userIds.length, ...userIds.map((userId) => this.userKey(userId)));
    return new Set(userIds.filter((_, index) => found[index] === 1));
  }

  async dropGateway(gatewayId: string): Promise<void> {
    const users = await this.redis.smembers(this.gatewayKey(gatewayId));
    const pipeline = this.redis.pipeline();
    for (const userId of users) pipeline.hdel(this.userKey(Number(userId)), gatewayId);
    pipeline.del(this.gatewayKey(gatewayId));
    await pipeline.exec();
  }

  async ack(userId: number, seq: number): Promise<void> {
    await this.redis.eval(ACK, 1, `${this.prefix}acked`, String(userId), String(seq));
  }

  async acked(userId: number): Promise<number> {
    return Number((await this.redis.hget(`${this.prefix}acked`, String(userId))) ?? 0);
  }

  async ackedMany(userIds: readonly number[]): Promise<Map<number, number>> {
    if (userIds.length === 0) return new Map();
    const values = await this.redis.hmget(`${this.prefix}acked`, ...userIds.map(String));
    return new Map(userIds.map((id, index) => [id, Number(values[index] ?? 0)]));
  }

  private userKey(userId: number): string {
    return `${this.prefix}user:${userId}`;
  }

  private gatewayKey(gatewayId: string): string {
    return `${this.prefix}gw:${gatewayId}`;
  }
}

export class RedisNodeRegistry implements NodeRegistry {
  private readonly key: string;

  constructor(private readonly redis: Redis, prefix: string) {
    this.key = `${prefix}nodes`;
  }

  async upsert(node: NodeInfo): Promise<void> {
    await this.redis.hset(this.key, node.id, JSON.stringify(node));
  }

  async remove(id: string): Promise<void> {
    await this.redis.hdel(this.key, id);
  }

  async list(): Promise<NodeInfo[]> {
    return Object.values(await this.redis.hgetall(this.key)).map((json) => JSON.parse(json) as NodeInfo);
  }
}

export class RedisNonceCache implements NonceCache {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  async claim(value: string, ttlSeconds: number): Promise<boolean> {
    return (await this.redis.set(`${this.prefix}nonce:${value}`, '1', 'EX', ttlSeconds, 'NX')) === 'OK';
  }
}
