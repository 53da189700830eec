import { HEARTBEAT_TOPIC, type BusSubscriber, type Heartbeat } from '../core/bus/bus.js';
import type { Logger } from '../core/log.js';
import type { History } from './history.js';
import type { NodeInfo, NodeRegistry, Presence } from '../core/presence/presence.js';

const REAP_EVERY_MS = 250;

/**
 * Records gateway heartbeats in the registry (what /nodes/ lists) and removes a gateway that
 * has been silent for `timeoutMs`, with its presence. While the monitor's own bus connection
 * is down it cannot tell a dead gateway from a dead bus, so it reaps nobody.
 */
export class GatewayWatcher {
  private readonly nodes = new Map<string, NodeInfo>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly bus: BusSubscriber,
    private readonly registry: NodeRegistry,
    private readonly presence: Presence,
    private readonly timeoutMs: number,
    private readonly log: Logger,
    private readonly history: History,
  ) {
    bus.subscribe(HEARTBEAT_TOPIC);
    this.timer = setInterval(() => void this.reap(), REAP_EVERY_MS);
  }

  /** Adopts what the registry holds, so gateways that died while no monitor ran are reaped too. */
  async load(): Promise<void> {
    for (const node of await this.registry.list()) if (!this.nodes.has(node.id)) this.nodes.set(node.id, node);
  }

  async heartbeat(beat: Heartbeat): Promise<void> {
    if (beat.leaving) return this.forget(beat.id, 'left');
    const node = { ...beat, lastSeen: Date.now() };
    this.history.record(node);
    if (!this.nodes.has(beat.id)) this.log.info({ gateway: beat.id, address: beat.address }, 'gateway joined');
    this.nodes.set(beat.id, node);
    await this.registry.upsert(node).catch((error) => this.log.warn({ err: error }, 'registry update failed'));
  }

  list(): NodeInfo[] {
    return [...this.nodes.values()];
  }

  private async reap(): Promise<void> {
    if (!this.bus.connected) return;
    const deadline = Date.now() - this.timeoutMs;
    for (const node of this.nodes.values()) if (node.lastSeen < deadline) await this.forget(node.id, 'dead');
  }

  private async forget(id: string, reason: 'dead' | 'left'): Promise<void> {
    this.nodes.delete(id);
    this.history.ended(id, reason);
    this.log.info({ gateway: id, reason }, 'gateway removed');
    try {
      await this.registry.remove(id);
      await this.presence.dropGateway(id);
    } catch (error) {
      this.log.warn({ err: error }, 'could not remove gateway; will retry');
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}
