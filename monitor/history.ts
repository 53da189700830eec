import type { NodeInfo } from '../core/presence/presence.js';

export interface Sample {
  /** ms since the epoch */
  t: number;
  connections: number;
  messagesPerSecond: number;
  p99LatencyMs: number | null;
}

export interface GatewayHistory {
  id: string;
  address: string;
  /** up: heartbeating; late: a heartbeat is overdue; dead: removed for silence; left: drained. */
  state: 'up' | 'late' | 'dead' | 'left';
  samples: Sample[];
}

/** The last `windowMs` of every gateway's heartbeats and of the outbox depth, for the dashboard. */
export class History {
  private readonly gateways = new Map<string, GatewayHistory>();
  private readonly outbox: { t: number; depth: number }[] = [];

  constructor(private readonly windowMs: number, private readonly lateAfterMs: number) {}

  record(node: NodeInfo): void {
    const entry = this.gateways.get(node.id) ?? { id: node.id, address: node.address, state: 'up', samples: [] };
    entry.state = 'up';
    entry.samples.push({ t: node.lastSeen, connections: node.connections, messagesPerSecond: node.messagesPerSecond, p99LatencyMs: node.p99LatencyMs });
    this.gateways.set(node.id, entry);
    this.trim(entry.samples);
  }

  ended(id: string, how: 'dead' | 'left'): void {
    const entry = this.gateways.get(id);
    if (entry) entry.state = how;
  }

  recordOutbox(depth: number): void {
    this.outbox.push({ t: Date.now(), depth });
    this.trim(this.outbox);
  }

  snapshot(): { now: number; gateways: GatewayHistory[]; outbox: { t: number; depth: number }[] } {
    const now = Date.now();
    for (const [id, entry] of this.gateways) {
      this.trim(entry.samples);
      if (entry.samples.length === 0) this.gateways.delete(id);
      else if (entry.state === 'up' && now - entry.samples.at(-1)!.t > this.lateAfterMs) entry.state = 'late';
    }
    return { now, gateways: [...this.gateways.values()], outbox: this.outbox };
  }

  private trim(samples: { t: number }[]): void {
    const oldest = Date.now() - this.windowMs;
    while (samples.length && samples[0].t < oldest) samples.shift();
  }
}
