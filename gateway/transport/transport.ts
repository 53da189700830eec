import { PUSHWIRE_SUBPROTOCOL } from '../../sdk/wire.js';
/**
 * What serves the gateway's websockets and its few HTTP routes. Two implementations: native
 * uWebSockets.js where a build of it loads (the fast path), and `ws` on node:http everywhere
 * else. One is chosen at start (see select.ts); the gateway sees only these interfaces.
 */

/** One client websocket. Structurally a MemberSocket (a Sink that joins topics): what a Connection delivers to. */
export interface ClientSocket {
  /** A socket reaches one client (a group's topic reaches many). */
  readonly receivers: number;
  /** Closed by either side: every method is then a no-op. */
  readonly closed: boolean;
  /** Sends a text frame. */
  send(frame: string): void;
  /** Runs `sends` so that their frames leave in as few writes as possible. */
  batch(sends: () => void): void;
  bufferedAmount(): number;
  /** Joins a topic: what is published to it reaches this socket, in order with its own sends. */
  subscribe(topic: string): void;
  /** Leaves a topic; what was published to it before still reaches the socket. */
  unsubscribe(topic: string): void;
  /** Sends a close frame; the `close` handler runs now, not when the client answers. */
  close(code: number, reason: string): void;
}

/** What a client's upgrade request asked for. */
export interface Upgrade {
  /** The request's query string. */
  query: string;
  /** The client's address, as `clientAddress` answered. */
  address: string;
  /** The websocket subprotocol agreed on ('' for none). */
  protocol: string;
}

/** The subprotocol to agree on from a Sec-WebSocket-Protocol list: ours when offered, else the client's first ('' for none). */
export function chooseProtocol(requested: string): string {
  const offered = requested.split(',').map((protocol) => protocol.trim()).filter(Boolean);
  return offered.includes(PUSHWIRE_SUBPROTOCOL) ? PUSHWIRE_SUBPROTOCOL : offered[0] ?? '';
}

export interface SocketHandlers<S> {
  /** Who is upgrading: the peer's IP, or from a trusted proxy, the client its X-Forwarded-For names. */
  clientAddress(peer: string, forwardedFor: string | undefined): string;
  /** An upgrade from `address` (as clientAddress answered): null lets it through, an answer refuses it (the connection then closes). */
  admit(address: string): HttpAnswer | null;
  /** A client connected, as its upgrade asked. Returns the gateway's state for it. */
  open(socket: ClientSocket, upgrade: Upgrade): S;
  /** A frame arrived: its text, or null for a binary frame. */
  message(state: S, text: string | null): void;
  /** The socket's send buffer drained. */
  drain(state: S): void;
  /** The socket closed, by either side. Runs once. */
  close(state: S): void;
}

export interface HttpAnswer {
  status: number;
  contentType: string;
  body: string;
  headers?: Record<string, string>;
}

/** GET routes by exact path. Any other path answers 404 not_found. */
export type HttpRoutes = Record<string, () => HttpAnswer | Promise<HttpAnswer>>;

export interface ListenOptions {
  host: string;
  port: number;
  /** A larger client frame closes the socket with 1009. */
  maxFrameBytes: number;
  /** A socket silent this long is closed; the server pings before, so only dead ones are. */
  idleTimeoutSeconds: number;
  /** A socket whose send buffer passes this is closed: the client resumes, and loses nothing. */
  maxBufferedBytes: number;
  /** HTTP requests (upgrades, /health) must arrive within these; uWS applies its own, shorter, deadlines. */
  httpHeadersTimeoutMs: number;
  httpRequestTimeoutMs: number;
}

export interface TransportServer {
  readonly port: number;
  /** Sends a text frame to every socket subscribed to `topic`. */
  publish(topic: string, frame: string): void;
  /** Stops accepting connections; open sockets stay. */
  stopListening(): void;
}

export type TransportName = 'uws' | 'ws';

export interface Transport {
  readonly name: TransportName;
  /** What serves the sockets, said in the start banner and in /status. */
  readonly description: string;
  /**
   * Listens on host:port. Several processes may listen on one port (SO_REUSEPORT; the kernel
   * spreads connections): uWS always, `ws` on Node ≥ 22.12.
   */
  listen<S>(options: ListenOptions, handlers: SocketHandlers<S>, routes: HttpRoutes): Promise<TransportServer>;
}

const notFound: HttpAnswer = { status: 404, contentType: 'application/json', body: JSON.stringify({ error: 'not_found', message: 'No such route.' }) };
const internal: HttpAnswer = { status: 500, contentType: 'application/json', body: JSON.stringify({ error: 'internal', message: 'Internal error.' }) };

/** What a request gets, whichever transport serves it: its route's answer, 404 without one, 500 if the route fails. */
export function answerOf(route: HttpRoutes[string] | undefined): Promise<HttpAnswer> {
  return Promise.resolve().then(() => (route ? route() : notFound)).catch(() => internal);
}
