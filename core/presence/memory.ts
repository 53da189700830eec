import type { NodeInfo, NodeRegistry, NonceCache, Presence } from './presence.js';

/** In-process presence for the embedded mode, where every role shares one process. */
export class MemoryPresence implements Presence {
  /**
   * Each gateway's users, with their live sockets there. Embedded mode has one gateway, so a user
   * costs one number in one map: a map per user cost ~150 bytes of every connected user's memory,
   * an array of [gateway, count] per user ~64.
   */
  private readonly gateways = new Map<string, Map<number, number>>();
  private readonly acks = new Map<number, number>();

  async add(userId: number, gatewayId: string): Promise<void> {
    let sockets = this.gateways.get(gatewayId);
    if (!sockets) this.gateways.set(gatewayId, (sockets = new Map()));
    sockets.set(userId, (sockets.get(userId) ?? 0) + 1);
  }

  async remove(userId: number, gatewayId: string): Promise<void> {
    const sockets = this.gateways.get(gatewayId);
    const count = sockets?.get(userId);
    if (!sockets || count === undefined) return;
    if (count > 1) sockets.set(userId, count - 1);
    else sockets.delete(userId);
  }

  async gatewaysOf(userId: number): Promise<string[]> {
    return [...this.gateways].filter(([, sockets]) => sockets.has(userId)).map(([gatewayId]) => gatewayId);
  }

  async online(userIds: readonly number[]): Promise<Set<number>> {
    const everywhere = [...this.gateways.values()];
    return new Set(userIds.filter((id) => everywhere.some((sockets) => sockets.has(id))));
  }

  async dropGateway(gatewayId: string): Promise<void> {
    this.gateways.delete(gatewayId);
  }

  async ack(userId: number, seq: number): Promise<void> {
    if (seq > (this.acks.get(userId) ?? 0)) this.acks.set(userId, seq);
  }

  async acked(userId: number): Promise<number> {
    return this.acks.get(userId) ?? 0;
  }

  async ackedMany(userIds: readonly number[]): Promise<Map<number, number>> {
    return new Map(userIds.map((id) => [id, this.acks.get(id) ?? 0]));
  }
}

export class MemoryNodeRegistry implements NodeRegistry {
  private readonly nodes = new Map<string, NodeInfo>();

  async upsert(node: NodeInfo): Promise<void> {
    this.nodes.set(node.id, node);
  }

  async remove(id: string): Promise<void> {
    this.nodes.delete(id);
  }

  async list(): Promise<NodeInfo[]> {
    return [...this.nodes.values()];
  }
}

export class MemoryNonceCache implements NonceCache {
  private readonly seen = new Map<string, number>();

  async claim(value: string, ttlSeconds: number): Promise<boolean> {
    const now = Date.now();
    for (const [key, until] of this.seen) if (until <= now) this.seen.delete(key);
    if (this.seen.has(value)) return false;
    this.seen.set(value, now + ttlSeconds * 1000);
    return true;
  }
}
