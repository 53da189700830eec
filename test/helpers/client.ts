import WebSocket from 'ws';
import { Contract } from './contract.js';

export interface Envelope {
  key: string;
  timestamp: string;
  queue: string;
  body: Record<string, unknown>;
}

export interface HttpResult<T = Record<string, unknown>> {
  status: number;
  body: T;
}

/** Plain HTTP calls against the public API. */
export class Http {
  private contract: Promise<Contract | null> | null = null;

  constructor(readonly base: string) {}

  async request<T = Record<string, unknown>>(method: string, path: string, options: { json?: unknown; form?: Record<string, string>; headers?: Record<string, string>; raw?: string } = {}): Promise<HttpResult<T>> {
    const headers: Record<string, string> = { ...options.headers };
    let body: string | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(options.form).toString();
    } else if (options.raw !== undefined) body = options.raw;
    const url = path.startsWith('http') ? path : `${this.base}${path}`;
    const response = await fetch(url, { method, headers, body });
    const text = await response.text();
    // Every answer the suites get is held to the API's OpenAPI document (when the server has one).
    const exchange = {
      method, url: new URL(url), requestType: headers['content-type'], requestText: body,
      status: response.status, responseType: response.headers.get('content-type') ?? '', responseText: text, errorCode: response.headers.get('pushwire-error'),
    };
    this.contract ??= Contract.of(exchange.url.origin);
    const problems = (await this.contract)?.problems(exchange) ?? [];
    if (problems.length) throw new Error(`The exchange breaks the API's OpenAPI document:\n${problems.join('\n')}`);
    return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
  }

  /** A new token with one domain queue. */
  async user(domain = 'example.com'): Promise<{ token: string; own: string; queue: string }> {
    const created = await this.request<{ token: string; queue: string }>('POST', '/token/');
    const queue = await this.request<{ queue: string }>('POST', '/queue/', { json: { token: created.body.token, domain } });
    return { token: created.body.token, own: created.body.queue, queue: queue.body.queue };
  }

  async publish(queue: string, fields: Record<string, unknown>): Promise<Envelope> {
    const result = await this.request<Envelope>('POST', queue, { json: fields });
    if (result.status !== 200) throw new Error(`publish failed: ${result.status} ${JSON.stringify(result.body)}`);
    // The envelope, without the fields the answer adds for the original service's clients (messages, status).
    const { key, timestamp, queue: url, body } = result.body;
    return { key, timestamp, queue: url, body };
  }
}

/** ZeroMQ subscriptions take a moment to reach the broker (loopback: ~1 ms); generous for loaded CI. */
const SUBSCRIPTION_SETTLE_MS = 300;

export type Frame = { type: string; [field: string]: unknown };

/** A websocket client that records every frame, for assertions. */
export class WsClient {
  readonly frames: Frame[] = [];
  closeCode: number | null = null;
  closeReason = '';
  private readonly socket: WebSocket;
  private readonly opened: Promise<void>;
  private readonly closedPromise: Promise<void>;

  constructor(url: string, protocols?: string[]) {
    this.socket = new WebSocket(url, protocols);
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
    });
    this.closedPromise = new Promise((resolve) => this.socket.once('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
      resolve();
    }));
    this.socket.on('message', (data) => this.frames.push(JSON.parse(data.toString()) as Frame));
    this.socket.on('error', () => {});
  }

  static async connect(url: string, auth?: Record<string, unknown> | string, protocols?: string[]): Promise<WsClient> {
    const client = new WsClient(url, protocols);
    await client.opened;
    if (auth !== undefined) client.send(auth);
    return client;
  }

  /**
   * Connects, authenticates, and waits until the gateway's bus subscription for the user has
   * surely reached the broker, so a message published next is delivered live.
   */
  static async subscribed(url: string, auth: Record<string, unknown> | string): Promise<WsClient> {
    const client = await WsClient.connect(url, auth);
    await client.waitFor((frame) => frame.type === 'hello');
    await sleep(SUBSCRIPTION_SETTLE_MS);
    return client;
  }

  send(frame: Record<string, unknown> | string): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The subprotocol the gateway agreed on ('' for none). */
  get protocol(): string {
    return this.socket.protocol;
  }

  messages(type = 'message'): Envelope[] {
    return this.frames.filter((frame) => frame.type === type) as unknown as Envelope[];
  }

  /** Resolves with the first frame (at or after index `from`) that matches. */
  async waitFor(match: (frame: Frame) => boolean, timeoutMs = 5000, from = 0): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.slice(from).find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching frame in ${timeoutMs} ms; got ${JSON.stringify(this.frames.slice(-5))}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async waitForMessages(count: number, timeoutMs = 5000): Promise<Envelope[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages().length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} messages, got ${this.messages().length}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.messages();
  }

  async closed(timeoutMs = 5000): Promise<number | null> {
    await Promise.race([this.closedPromise, new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
    return this.closeCode;
  }

  /** Stops reading the socket (a slow consumer: the server's buffer for it grows), or reads again. */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  close(): void {
    this.socket.close();
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it is truthy or `timeoutMs` passes. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 8000): Promise<Exclude<T, false | null | undefined | 0 | ''>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as Exclude<T, false | null | undefined | 0 | ''>;
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms`);
    await sleep(25);
  }
}

/**
 * Waits, if need be, until the clock's current minute has at least `seconds` left: limits that
 * count in minutes aligned to the clock start again from zero when it turns, and a test that
 * counts up to a limit must not straddle that.
 */
export async function freshMinute(seconds = 20): Promise<void> {
  const left = () => 60_000 - (Date.now() % 60_000);
  if (left() >= seconds * 1000) return;
  await eventually(() => left() >= seconds * 1000, 61_000);
}
