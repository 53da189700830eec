import WebSocket from 'ws';
import type { Histogram } from 'hdr-histogram-js';

/** The send time rides in the posted body (µs since the epoch); regexes read frames without parsing JSON. */
const SENT_AT = /"body":"(\d+)"/;
const KEY = /"key":"([0-9a-f]{12}([0-9a-f]{12}))"/;

/**
 * One websocket client of the load test: counts what it gets, catches duplicates, and, like a
 * real client, reconnects to any node from /nodes/ with `since` = its last key when its socket
 * closes or its gateway drains.
 */
export class LoadClient {
  received = 0;
  duplicates = 0;
  reconnects = 0;
  private lastSeq = 0;
  private lastKey: string | null = null;
  private socket: WebSocket | null = null;
  private wanted = true;
  private node = '';

  constructor(readonly token: string, readonly user: number, private readonly api: string, private readonly localAddress: string, private readonly latency: Histogram) {}

  get open(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /** Connects and authenticates (resuming after its last key, if any); resolves with the time it took in ms. */
  connect(node: string): Promise<number> {
    const started = performance.now();
    this.node = node;
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`ws://${node}/`, { localAddress: this.localAddress, perMessageDeflate: false });
      this.socket = socket;
      socket.on('open', () => socket.send(JSON.stringify(this.lastKey ? { token: this.token, since: this.lastKey, limit: 1000 } : { token: this.token })));
      socket.on('error', (error) => (socket.readyState === WebSocket.CONNECTING ? reject(error) : undefined));
      socket.on('close', () => {
        if (this.wanted && this.socket === socket) void this.reconnect();
      });
      socket.on('message', (data) => {
        const text = data.toString();
        if (text.startsWith('{"type":"hello"')) {
          // Before any message, resume from where live delivery started, not from "now".
          this.lastKey ??= /"position":"([0-9a-f]{24})"/.exec(text)?.[1] ?? null;
          return resolve(performance.now() - started);
        }
        if (text.startsWith('{"type":"reconnect"')) return socket.close();
        if (text.startsWith('{"type":"catchup"') && text.includes('"more":true')) return socket.send('{"type":"fetch"}');
        const sentAt = SENT_AT.exec(text);
        const key = KEY.exec(text);
        if (!sentAt || !key) return;
        const seq = parseInt(key[2], 16);
        if (seq <= this.lastSeq) {
          this.duplicates++;
          return;
        }
        this.lastSeq = seq;
        this.lastKey = key[1];
        this.received++;
        this.latency.recordValue(Math.max(1, Math.round((performance.timeOrigin + performance.now()) * 1000 - Number(sentAt[1]))));
      });
    });
  }

  /** Backoff with full jitter; the same node first (several processes may share its address), then any that /nodes/ lists. */
  private async reconnect(): Promise<void> {
    for (let attempt = 0; this.wanted; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(2000, 100 * 2 ** attempt)));
      try {
        let node = this.node;
        if (attempt > 0) {
          const { nodes } = (await (await fetch(`${this.api}/nodes/`)).json()) as { nodes: string[] };
          if (nodes.length === 0) continue;
          node = nodes[Math.floor(Math.random() * nodes.length)];
        }
        await this.connect(node);
        this.reconnects++;
        return;
      } catch {
        // the node went away meanwhile: try again
      }
    }
  }

  close(): void {
    this.wanted = false;
    this.socket?.terminate();
  }
}

/** Source addresses 127.0.0.1 … 127.0.0.N: each gives another 64k ephemeral ports toward one server port. */
export const sourceAddress = (index: number, spread: number): string => `127.0.0.${1 + (index % spread)}`;
