import type { NodeInfo, NodeRegistry, NonceCache, Presence } from './presence.js';

/** In-process presence for the embedded mode, where every role shares one process. */
export class MemoryPresence implements Presence {
  /** userId → gatewayId → socket count */
  private readonly sockets = new Map<number, Map<string, number>>();
  private readonly acks = new Map<number, number>();

  async add(userId: number, gatewayId: string): Promise<void> {
    const gateways = this.sockets.get(userId) ?? new Map<string, number>();
    gateways.set(gatewayId, (gateways.get(gatewayId) ?? 0) + 1);
    this.sockets.set(userId, gateways);
  }

  async remove(userId: number, gatewayId: string): Promise<void> {
    const gateways = this.sockets.get(userId);
    const count = gateways?.get(gatewayId);
    if (!gateways || count === undefined) return;
    if (count > 1) gateways.set(gatewayId, count - 1);
    else gateways.delete(gatewayId);
    if (gateways.size === 0) this.sockets.delete(userId);
  }

  async gatewaysOf(userId: number): Promise<string[]> {
    return [...(this.sockets.get(userId)?.keys() ?? [])];
  }

  async online(userIds: readonly number[]): Promise<Set<number>> {
    return new Set(userIds.filter((id) => this.sockets.has(id)));
  }

  async dropGateway(gatewayId: string): Promise<void> {
    for (const userId of [...this.sockets.keys()]) {
      const gateways = this.sockets.get(userId)!;
      gateways.delete(gatewayId);
      if (gateways.size === 0) this.sockets.delete(userId);
    }
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
