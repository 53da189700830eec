import WebSocket from 'ws';
import type { Histogram } from 'hdr-histogram-js';

/** The send time rides in the posted body (µs since the epoch); a regex reads it without parsing JSON. */
const SENT_AT = /"body":"(\d+)"/;
const KEY_SEQ = /"key":"[0-9a-f]{12}([0-9a-f]{12})"/;

/** One websocket client of the load test: counts what it gets, catches duplicates and gaps. */
export class LoadClient {
  received = 0;
  duplicates = 0;
  private lastSeq = 0;
  socket: WebSocket | null = null;

  constructor(readonly token: string, readonly user: number) {}

  /** Connects and authenticates; resolves with the connect+auth time in ms. */
  connect(url: string, localAddress: string, latency: Histogram): Promise<number> {
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { localAddress, perMessageDeflate: false });
      this.socket = socket;
      socket.on('open', () => socket.send(JSON.stringify({ token: this.token })));
      socket.on('error', reject);
      socket.on('message', (data) => {
        const text = data.toString();
        if (text.startsWith('{"type":"hello"')) return resolve(performance.now() - started);
        const sentAt = SENT_AT.exec(text);
        if (!sentAt) return;
        const seq = parseInt(KEY_SEQ.exec(text)![1], 16);
        if (seq <= this.lastSeq) {
          this.duplicates++;
          return;
        }
        this.lastSeq = seq;
        this.received++;
        latency.recordValue(Math.max(1, Math.round((performance.timeOrigin + performance.now()) * 1000 - Number(sentAt[1]))));
      });
    });
  }

  close(): void {
    this.socket?.terminate();
  }
}

/** Source addresses 127.0.0.1 … 127.0.0.N: each gives another 64k ephemeral ports toward one server port. */
export const sourceAddress = (index: number, spread: number): string => `127.0.0.${1 + (index % spread)}`;
