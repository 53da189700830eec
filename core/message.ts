import { encodeKey, formatTimestamp } from './ids.js';

/**
 * What a user's sequence holds. `message` is what a site published; `read` says a message
 * was read (body `{read: KEY}`); `marker` moves a queue's read marker (body `{timestamp}`).
 */
export type MessageKind = 'message' | 'read' | 'marker';

/**
 * Markers collapse per queue like messages sharing a replaceId: only the newest matters.
 * Collapsing groups by (queue, kind, replaceId), so no site's replaceId can collide with it.
 */
export const MARKER_REPLACE_ID = 'read-marker';

export interface StoredMessage {
  readonly userId: number;
  /** Position in the user's sequence: 1, 2, 3... committed in this order. */
  readonly seq: number;
  /** Queue name (the last path segment of the queue URL). */
  readonly queue: string;
  /** Commit time, microseconds since the epoch. */
  readonly micros: number;
  readonly kind: MessageKind;
  readonly replaceId: string | null;
  readonly body: Record<string, unknown>;
}

/** The seed's message format, the same over HTTP and websocket. */
export interface Envelope {
  key: string;
  timestamp: string;
  queue: string;
  body: Record<string, unknown>;
}

export function queueUrl(publicUrl: string, queue: string): string {
  return `${publicUrl}/queue/${queue}/`;
}

export function toEnvelope(message: StoredMessage, publicUrl: string): Envelope {
  return {
    key: encodeKey(message.userId, message.seq),
    timestamp: formatTimestamp(message.micros),
    queue: queueUrl(publicUrl, message.queue),
    body: message.body,
  };
}

/** The websocket frame of a stored message: the envelope plus its type. */
export function toFrame(message: StoredMessage, publicUrl: string): string {
  return JSON.stringify({ type: message.kind, ...toEnvelope(message, publicUrl) });
}
