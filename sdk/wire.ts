import type { Envelope } from './http.js';

/**
 * The websocket protocol, both ways: every frame a client sends and a gateway sends back, and
 * the close codes with what a client does after each. The gateway builds and parses these very
 * types; the SDK receives them without casting.
 */

/**
 * Two dialects on one gateway. `original`: the protocol of Mozilla's original service, for its
 * clients. The text frame `token: T` (or `?token=T` in the URL) authenticates; then each message
 * arrives as its bare envelope and nothing else is sent; frames the gateway does not understand
 * are ignored. `pushwire`: the JSON auth frame (what this SDK sends), or any auth with the
 * `pushwire` websocket subprotocol. It has hello, typed frames, catch-up pages, acks and drain.
 */
export type Dialect = 'pushwire' | 'original';

/** The websocket subprotocol that asks for the `pushwire` dialect whatever the auth frame. */
export const PUSHWIRE_SUBPROTOCOL = 'pushwire';

/** What an `original` client receives for each message: the envelope alone. */
export type OriginalMessageFrame = Envelope;

/** Websocket close codes. */
export const CloseCode = {
  /** The gateway is stopping (after a `reconnect` frame): reconnect elsewhere, resume with `since`. */
  goingAway: 1001,
  /** A frame over the size limit: sending it again fails again. */
  tooLarge: 1009,
  /** The gateway failed: reconnect, resume with `since`. */
  internal: 1011,
  /** The token was refused: a new token, not a retry. */
  authFailed: 4001,
  /** No token within the time allowed: reconnect, and authenticate at once. */
  authTimeout: 4002,
  /** A frame the protocol does not allow: a client bug, not a retry. */
  protocolError: 4003,
  /** The client read too slowly and fell too far behind: reconnect, resume with `since`. */
  slowConsumer: 4008,
} as const;

/** Closes after which reconnecting as before cannot succeed. */
export const FATAL_CLOSE_CODES: ReadonlySet<number> = new Set([CloseCode.authFailed, CloseCode.protocolError, CloseCode.tooLarge]);

// Client → gateway.

/** Authenticates the socket, then catches up after `since` (a key) in pages of `limit`. */
export interface AuthFrame { type: 'auth'; token: string; since?: string; limit?: number }
/** Everything up to `key` arrived: no offline push for it. */
export interface AckFrame { type: 'ack'; key: string }
/** The next page of a catch-up. */
export interface FetchFrame { type: 'fetch'; since?: string; limit?: number }
export interface PingFrame { type: 'ping' }
export type ClientFrame = AuthFrame | AckFrame | FetchFrame | PingFrame;

// Gateway → client.

/** Authenticated. `position`: without `since`, live delivery starts after this key; `acked`: the user's last acknowledged key. */
export interface HelloFrame { type: 'hello'; gateway: string; position: string | null; acked: string | null }
/** A stored message: a notification, a read mark (`body.read`) or a read marker (`body.timestamp`). */
export interface MessageFrame extends Envelope { type: 'message' | 'read' | 'marker' }
/** A catch-up page ended: `more` asks for a `fetch`; `truncated`: retention removed messages after `since`. */
export interface CatchupFrame { type: 'catchup'; count: number; more: boolean; truncated: boolean; last: string | null }
export interface PongFrame { type: 'pong' }
/** A refused frame or token; `error` is the documented code. */
export interface ErrorFrame { type: 'error'; error: string; message: string }
/** This gateway is draining: reconnect to another node with `since`. */
export interface ReconnectFrame { type: 'reconnect'; reason: 'draining' }
export type ServerFrame = HelloFrame | MessageFrame | CatchupFrame | PongFrame | ErrorFrame | ReconnectFrame;
/** The frames a gateway builds itself; messages it sends as their stored text. */
export type ControlFrame = Exclude<ServerFrame, MessageFrame>;
