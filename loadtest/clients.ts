import WebSocket from 'ws';
import type { Histogram } from 'hdr-histogram-js';

/** The send time rides in the posted body (µs since the epoch); regexes read frames without parsing JSON. */
const SENT_AT = /"body":"(\d+)"/;
const KEY = /"key":"([0-9a-f]{12}([0-9a-f]{12}))"/;

/** One attempt's wait for hello: a gateway that accepts but never says hello is left for another after this. */
const ATTEMPT_MS = 10_000;

/** Full jitter, up to 100 ms × 2^attempt and at most 2 s. */
const backoff = (attempt: number) => new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(2000, 100 * 2 ** attempt)));

/**
 * One websocket client of the load test: counts what it gets, catches duplicates, and, like a
 * real client, reconnects to any node from /nodes/ with `since` = its last key when its socket
 * closes or its gateway drains.
 */
export class LoadClient {
  received = 0;
  duplicates = 0;
  reconnects = 0;
  /** Attempts of the first connection that did not get in (refused, closed or silent), retried. */
  connectRetries = 0;
  private lastSeq = 0;
  private lastKey: string | null = null;
  private socket: WebSocket | null = null;
  private wanted = true;
  private node = '';

  constructor(readonly token: string, readonly user: number, private readonly api: string, private readonly localAddress: string, private readonly latency: Histogram) {}

  get open(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /**
   * Connects as a real client would: on a refusal, a close before hello or no hello within
   * ATTEMPT_MS, it tries again with backoff (full jitter; the same node first, then any that
   * /nodes/ lists) until it is in or `giveUpMs` has passed, and then fails with the last reason.
   * Resolves with the time the attempt that got in took, in ms.
   */
  async start(node: string, giveUpMs: number): Promise<number> {
    const deadline = Date.now() + giveUpMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.attempt(attempt === 0 ? node : await this.anyNode(node), Math.min(ATTEMPT_MS, giveUpMs));
      } catch (error) {
        if (!this.wanted || Date.now() >= deadline) throw error;
        this.connectRetries++;
        await backoff(attempt);
      }
    }
  }

  /**
   * One connection attempt, authenticated (resuming after its last key, if any). It settles on
   * every path: hello, a refused upgrade, a close before hello, or no hello within `timeoutMs`.
   */
  private attempt(node: string, timeoutMs: number): Promise<number> {
    const started = performance.now();
    this.node = node;
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`ws://${node}/`, { localAddress: this.localAddress, perMessageDeflate: false });
      this.socket = socket;
      let greeted = false;
      let failure = '';
      const timer = setTimeout(() => {
        failure = `no hello in ${timeoutMs} ms`;
        socket.terminate();
      }, timeoutMs);
      socket.on('open', () => socket.send(JSON.stringify(this.lastKey ? { token: this.token, since: this.lastKey, limit: 1000 } : { token: this.token })));
      // ws follows every error with a close: the reason is kept for it.
      socket.on('error', (error) => (failure ||= error.message));
      socket.on('close', (code, reason) => {
        clearTimeout(timer);
        if (!greeted) return reject(new Error(`ws://${node}/: ${failure || `closed before hello (${code} ${reason.toString()})`}`));
        if (this.wanted && this.socket === socket) void this.reconnect();
      });
      socket.on('message', (data) => {
        const text = data.toString();
        if (text.startsWith('{"type":"hello"')) {
          greeted = true;
          clearTimeout(timer);
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

  /** After a connection that was in has closed: backoff first (a storm spreads out), the same node first, until it is back or closed. */
  private async reconnect(): Promise<void> {
    for (let attempt = 0; this.wanted; attempt++) {
      await backoff(attempt);
      try {
        await this.attempt(attempt === 0 ? this.node : await this.anyNode(this.node), ATTEMPT_MS);
        this.reconnects++;
        return;
      } catch {
        // the node went away meanwhile: try again
      }
    }
  }

  /** Any node /nodes/ lists (several processes may share an address), or `fallback` when it lists none or cannot be asked. */
  private async anyNode(fallback: string): Promise<string> {
    try {
      const { nodes } = (await (await fetch(`${this.api}/nodes/`)).json()) as { nodes: string[] };
      return nodes.length ? nodes[Math.floor(Math.random() * nodes.length)] : fallback;
    } catch {
      return fallback;
    }
  }

  close(): void {
    this.wanted = false;
    this.socket?.terminate();
  }
}

/** Source addresses 127.0.0.1 … 127.0.0.N: each gives another 64k ephemeral ports toward one server port. */
export const sourceAddress = (index: number, spread: number): string => `127.0.0.${1 + (index % spread)}`;
