import { Backoff, type BackoffOptions } from './backoff.js';
import { Emitter } from './events.js';
import { call, defaultFetch, PushwireError, type Envelope, type Fetch } from './http.js';
import { memoryKeyStore, type KeyStore } from './storage.js';
import { CloseCode, FATAL_CLOSE_CODES, type AckFrame, type AuthFrame, type FetchFrame, type MessageFrame, type ServerFrame } from './wire.js';

/** What the client needs of a WebSocket: the browser's own, or the `ws` package in Node. */
export interface SocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}
export type SocketConstructor = new (url: string) => SocketLike;

export interface ClientEvents extends Record<string, unknown> {
  /** A message, live or caught up; each key exactly once, in key order. */
  message: Envelope;
  /** Another client of the user marked `body.read` read. */
  read: Envelope;
  /** A queue's read marker moved to `body.timestamp`. */
  'read-marker': Envelope;
  connected: { gateway: string; node: string };
  /** `retryInMs` null: the client stopped (a bad token, say) and will not reconnect. */
  disconnected: { code: number; reason: string; retryInMs: number | null };
  /** The end of a catch-up; `truncated`: retention removed messages the client had not seen. */
  catchup: { count: number; truncated: boolean };
  /** The client moved from one state to another (`ClientState`). */
  state: { previous: ClientState; current: ClientState };
  error: PushwireError;
}

export type ClientState = 'idle' | 'connecting' | 'connected' | 'waiting' | 'stopped';

export interface ClientOptions {
  /** Base URL of the HTTP API, e.g. `https://push.example.com`. */
  api: string;
  token: string;
  /** Where the last key seen is kept (default: memory). */
  store?: KeyStore;
  /** Default: the global WebSocket (browsers). Node: pass `ws`'s, or use `pushwire/node`. */
  WebSocket?: SocketConstructor;
  fetch?: Fetch;
  /** Catch-up page size. */
  limit?: number;
  backoff?: BackoffOptions;
  /** A ping goes out this often; a socket silent for this plus `pongTimeoutMs` is taken as dead. */
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
  /** Messages are acknowledged (so no offline push follows) this long after they arrive, in one frame. */
  ackDelayMs?: number;
  /**
   * Called when the gateway refuses the token (an idle token expired, say) with the refused one;
   * answers the token to use from now on, for the websocket and the client's HTTP calls. Without
   * it, or when it throws, the client stops with an `invalid_token` error.
   */
  refreshToken?: (refused: string) => string | Promise<string>;
  /**
   * One websocket URL to connect to (`wss://push.example.com/ws/`, behind a reverse proxy that
   * spreads the connections itself) instead of the gateways `/nodes/` lists.
   */
  gatewayUrl?: string;
}

/**
 * A `/nodes/` entry as a websocket URL: a gateway's host:port (ws:, or wss: when the API is
 * https:), or the URL a gateway advertises as its address through a reverse proxy.
 */
function socketUrl(node: string, api: string): string {
  if (/^wss?:\/\//.test(node)) return node;
  return `${new URL(api).protocol === 'https:' ? 'wss' : 'ws'}://${node}/`;
}

/** What the optional settings default to. */
const DEFAULTS = { limit: 100, pingIntervalMs: 15_000, pongTimeoutMs: 10_000, ackDelayMs: 100 };

/** After a `reconnect` frame, clients spread their reconnects over this long. */
const DRAIN_SPREAD_MS = 250;

/**
 * A Pushwire websocket client. Finds gateways through `/nodes/`, authenticates, resumes after
 * the last key it saw (kept in `store`), pages through catch-up, and reconnects with
 * exponential backoff and full jitter, moving to the next gateway each time. Every key reaches
 * the listeners once, in order, across reconnects, drains and restarts.
 */
export class PushwireClient extends Emitter<ClientEvents> {
  #state: ClientState = 'idle';
  /** The token in use: the one given, or the last `refreshToken` answered. */
  token: string;
  /** The gateway (host:port) of the current or last connection. */
  node: string | null = null;
  private socket: SocketLike | null = null;
  private lastKey: string | null = null;
  private keyLoaded = false;
  private nodes: string[] = [];
  private nodeIndex = 0;
  private lastFrameAt = 0;
  private draining = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private ackTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly backoff: Backoff;
  private readonly store: KeyStore;
  private readonly fetch: Fetch;
  private readonly Socket: SocketConstructor;
  private readonly settings: typeof DEFAULTS;

  constructor(private readonly options: ClientOptions) {
    super();
    this.backoff = new Backoff(options.backoff);
    this.store = options.store ?? memoryKeyStore();
    this.fetch = options.fetch ?? defaultFetch;
    this.settings = {
      limit: options.limit ?? DEFAULTS.limit, pingIntervalMs: options.pingIntervalMs ?? DEFAULTS.pingIntervalMs,
      pongTimeoutMs: options.pongTimeoutMs ?? DEFAULTS.pongTimeoutMs, ackDelayMs: options.ackDelayMs ?? DEFAULTS.ackDelayMs,
    };
    const Socket = options.WebSocket ?? (globalThis as { WebSocket?: SocketConstructor }).WebSocket;
    if (!Socket) throw new PushwireError('no_websocket', 'No WebSocket here: pass options.WebSocket (in Node, the ws package).');
    this.Socket = Socket;
    this.token = options.token;
  }

  get state(): ClientState {
    return this.#state;
  }

  private set state(next: ClientState) {
    const previous = this.#state;
    if (next === previous) return;
    this.#state = next;
    this.emit('state', { previous, current: next });
  }

  /** The key of the last message seen: where the next connection resumes. */
  get position(): string | null {
    return this.lastKey;
  }

  /** Connects, and keeps reconnecting until `stop()`. */
  start(): void {
    if (this.state !== 'idle' && this.state !== 'stopped') return;
    void this.connect();
  }

  stop(): void {
    this.flushAck();
    this.state = 'stopped';
    this.clearTimers();
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000, 'client stopped');
  }

  /** Marks a message read: the user's other clients get a `read` event. */
  markRead(message: Pick<Envelope, 'key' | 'queue'>): Promise<Envelope> {
    return call(this.fetch, `${message.queue}?action=read&key=${encodeURIComponent(message.key)}`, { method: 'POST', token: this.token });
  }

  /** Moves a queue's read marker (default: now); the user's other clients get a `read-marker` event. */
  setReadMarker(queue: string, timestamp?: string): Promise<{ queue: string; timestamp: string }> {
    return call(this.fetch, queue, { method: 'PUT', token: this.token, json: timestamp === undefined ? {} : { timestamp } });
  }

  /** The user's queue (push URL) for a site, created on first use. */
  async createQueue(domain: string): Promise<string> {
    return (await call<{ queue: string }>(this.fetch, new URL('/queue/', this.options.api).href, { method: 'POST', json: { token: this.token, domain } })).queue;
  }

  /** The user's queues by domain. */
  queues(): Promise<Record<string, string>> {
    return call(this.fetch, new URL(`/queue/?token=${encodeURIComponent(this.token)}`, this.options.api).href);
  }

  private async connect(): Promise<void> {
    this.state = 'connecting';
    let node: string;
    try {
      if (!this.keyLoaded) {
        this.lastKey = await this.store.get();
        this.keyLoaded = true;
      }
      node = await this.nextNode();
    } catch (error) {
      return this.retry(0, (error as Error).message);
    }
    // stop() may have been called while the key or the node list was being read.
    if ((this.state as ClientState) === 'stopped') return;
    const socket = new this.Socket(this.options.gatewayUrl ?? socketUrl(node, this.options.api));
    this.socket = socket;
    this.node = node;
    this.lastFrameAt = Date.now();
    socket.onopen = () => {
      const since = this.lastKey === null ? {} : { since: this.lastKey };
      socket.send(JSON.stringify({ type: 'auth', token: this.token, ...since, limit: this.settings.limit } satisfies AuthFrame));
    };
    socket.onmessage = (event) => {
      if (socket === this.socket) this.onFrame(socket, String(event.data));
    };
    socket.onclose = (event) => {
      if (socket === this.socket) this.onClose(event.code, event.reason);
    };
    socket.onerror = () => {}; // a close event follows
    this.pingTimer ??= setInterval(() => this.checkAlive(), this.settings.pingIntervalMs);
  }

  /** The next gateway in `/nodes/` order (least loaded first); the list is fetched again after each full round. */
  private async nextNode(): Promise<string> {
    if (this.options.gatewayUrl !== undefined) return new URL(this.options.gatewayUrl).host;
    if (this.nodeIndex >= this.nodes.length) {
      this.nodes = (await call<{ nodes: string[] }>(this.fetch, new URL('/nodes/', this.options.api).href)).nodes;
      this.nodeIndex = 0;
      if (this.nodes.length === 0) throw new PushwireError('no_gateways', 'No gateway is up.');
    }
    return this.nodes[this.nodeIndex++];
  }

  private onFrame(socket: SocketLike, text: string): void {
    this.lastFrameAt = Date.now();
    let frame: ServerFrame;
    try {
      frame = JSON.parse(text) as ServerFrame;
    } catch {
      return this.emit('error', new PushwireError('bad_frame', 'The gateway sent a frame that is not JSON.'));
    }
    switch (frame.type) {
      case 'hello':
        this.state = 'connected';
        this.backoff.reset();
        if (this.lastKey === null && frame.position !== null) this.remember(frame.position);
        return this.emit('connected', { gateway: frame.gateway, node: this.node! });
      case 'message':
      case 'read':
      case 'marker':
        return this.deliver(frame);
      case 'catchup':
        if (frame.more) socket.send(JSON.stringify({ type: 'fetch', limit: this.settings.limit } satisfies FetchFrame));
        return this.emit('catchup', { count: frame.count, truncated: frame.truncated });
      case 'reconnect':
        // This gateway is draining and has left /nodes/: go elsewhere now, fetching a fresh list.
        this.draining = true;
        this.nodes = [];
        socket.close(1000, 'moving to another gateway');
        return;
      case 'error':
        // A refused token with a refreshToken hook is handled by the close that follows.
        if (frame.error === 'invalid_token' && this.options.refreshToken) return;
        return this.emit('error', new PushwireError(frame.error, frame.message));
    }
  }

  private deliver(frame: MessageFrame): void {
    // Keys of one user sort in sequence order: anything at or before the last key was seen.
    if (this.lastKey !== null && frame.key <= this.lastKey) return;
    this.remember(frame.key);
    const { type, ...envelope } = frame;
    this.emit(type === 'marker' ? 'read-marker' : type === 'read' ? 'read' : 'message', envelope);
    this.ackTimer ??= setTimeout(() => this.flushAck(), this.settings.ackDelayMs);
  }

  private remember(key: string): void {
    this.lastKey = key;
    Promise.resolve(this.store.set(key)).catch((error: Error) => this.emit('error', new PushwireError('store_failed', `Could not keep the last key: ${error.message}`)));
  }

  private flushAck(): void {
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = null;
    if (this.socket && this.state === 'connected' && this.lastKey !== null) this.socket.send(JSON.stringify({ type: 'ack', key: this.lastKey } satisfies AckFrame));
  }

  /** Sends a ping; a socket that said nothing since well before the last ping is dead (a lost network, a frozen gateway). */
  private checkAlive(): void {
    if (!this.socket) return;
    if (Date.now() - this.lastFrameAt > this.settings.pingIntervalMs + this.settings.pongTimeoutMs) {
      const socket = this.socket;
      socket.onclose = null;
      socket.close(4000, 'no answer to pings');
      return this.onClose(1006, 'no answer to pings');
    }
    if (this.state === 'connected') this.socket.send('{"type":"ping"}');
  }

  private onClose(code: number, reason: string): void {
    this.socket = null;
    this.flushAck();
    if (this.state === 'stopped') return;
    if (code === CloseCode.authFailed && this.options.refreshToken) return void this.refresh(code, reason);
    if (FATAL_CLOSE_CODES.has(code)) {
      return this.giveUp(code, reason, new PushwireError(code === CloseCode.authFailed ? 'invalid_token' : 'protocol_error', reason || `closed with ${code}`));
    }
    if (this.draining) {
      this.draining = false;
      return this.retry(code, reason, Math.floor(Math.random() * DRAIN_SPREAD_MS));
    }
    this.retry(code, reason);
  }

  /** Asks `refreshToken` for a token in place of the refused one, then reconnects with it (after the backoff's delay). */
  private async refresh(code: number, reason: string): Promise<void> {
    const refused = this.token;
    try {
      this.token = await this.options.refreshToken!(refused);
    } catch (error) {
      return this.giveUp(code, reason, new PushwireError('invalid_token', `The token was refused and refreshToken failed: ${(error as Error).message}`));
    }
    this.retry(code, reason);
  }

  /** Stops for good after a close that retrying cannot mend: `error`, then `disconnected` with no retry. */
  private giveUp(code: number, reason: string, error: PushwireError): void {
    this.stop();
    this.emit('error', error);
    this.emit('disconnected', { code, reason, retryInMs: null });
  }

  private retry(code: number, reason: string, delay = this.backoff.next()): void {
    if (this.state === 'stopped') return;
    this.state = 'waiting';
    this.emit('disconnected', { code, reason, retryInMs: delay });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, delay);
  }

  private clearTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.retryTimer = null;
    this.pingTimer = null;
  }
}
