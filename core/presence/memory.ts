import type { NodeInfo, NodeRegistry, NonceCache, Presence } from './presence.js';

/**
 * A user's sockets by gateway, as [gatewayId, count, gatewayId, count, …]: embedded mode has one
 * gateway, and a Map per user cost ~150 bytes of every connected user's memory.
 */
type GatewaySockets = (string | number)[];

/** In-process presence for the embedded mode, where every role shares one process. */
export class MemoryPresence implements Presence {
  /** userId → sockets by gateway */
  private readonly sockets = new Map<number, GatewaySockets>();
  private readonly acks = new Map<number, number>();

  async add(userId: number, gatewayId: string): Promise<void> {
    const gateways = this.sockets.get(userId);
    if (!gateways) return void this.sockets.set(userId, [gatewayId, 1]);
    const at = gateways.indexOf(gatewayId);
    if (at < 0) gateways.push(gatewayId, 1);
    else gateways[at + 1] = (gateways[at + 1] as number) + 1;
  }

  async remove(userId: number, gatewayId: string): Promise<void> {
    const gateways = this.sockets.get(userId);
    const at = gateways?.indexOf(gatewayId) ?? -1;
    if (!gateways || at < 0) return;
    const count = gateways[at + 1] as number;
    if (count > 1) gateways[at + 1] = count - 1;
    else if (gateways.length > 2) gateways.splice(at, 2);
    else this.sockets.delete(userId);
  }

  async gatewaysOf(userId: number): Promise<string[]> {
    return (this.sockets.get(userId) ?? []).filter((_, index) => index % 2 === 0) as string[];
  }

  async online(userIds: readonly number[]): Promise<Set<number>> {
    return new Set(userIds.filter((id) => this.sockets.has(id)));
  }

  async dropGateway(gatewayId: string): Promise<void> {
    for (const [userId, gateways] of [...this.sockets]) {
      const at = gateways.indexOf(gatewayId);
      if (at < 0) continue;
      if (gateways.length > 2) gateways.splice(at, 2);
      else this.sockets.delete(userId);
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
