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
  /**
   * The body as JSON text, when the store or the bus had it so (what a store stored or read, what
   * crossed the bus): a frame splices it in instead of serialising the body again.
   */
  readonly bodyJson?: string;
}

/**
 * A message whose body came as JSON text (read back from a store that keeps it so, or off the
 * bus): the text crosses threads and processes as one string (cheaper to copy than an object
 * graph), and `body` is parsed only if something reads it; a frame does not.
 */
export class StoredJsonMessage implements StoredMessage {
  #body: Record<string, unknown> | undefined;

  constructor(
    readonly userId: number,
    readonly seq: number,
    readonly queue: string,
    readonly micros: number,
    readonly kind: MessageKind,
    readonly replaceId: string | null,
    readonly bodyJson: string,
  ) {}

  get body(): Record<string, unknown> {
    return (this.#body ??= JSON.parse(this.bodyJson) as Record<string, unknown>);
  }
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

/** The envelope's fields before its body: what a frame serialises itself and splices the body after. */
function envelopeHead(message: StoredMessage, publicUrl: string): Omit<Envelope, 'body'> {
  return { key: encodeKey(message.userId, message.seq), timestamp: formatTimestamp(message.micros), queue: queueUrl(publicUrl, message.queue) };
}

export function toEnvelope(message: StoredMessage, publicUrl: string): Envelope {
  return { ...envelopeHead(message, publicUrl), body: message.body };
}

/**
 * The envelope's members as JSON text, body last: the store's own text when it kept one
 * (JSON.stringify's output, so the result is byte for byte what serialising the parsed body
 * makes), else serialised here. Type, key and timestamp need no escaping (a kind, hex digits, a
 * decimal number); the queue's URL may.
 */
function envelopeMembers(message: StoredMessage, publicUrl: string): string {
  return `"key":"${encodeKey(message.userId, message.seq)}","timestamp":"${formatTimestamp(message.micros)}",`
    + `"queue":${quotedQueueUrl(publicUrl, message.queue)},"body":${message.bodyJson ?? JSON.stringify(message.body)}`;
}

/** A queue name JSON has no character to escape in (every name Pushwire gives is hex). */
const PLAIN_NAME = /^[\w-]*$/;
export const isPlainQueueName = (name: string): boolean => PLAIN_NAME.test(name);
/** The public URL the quoted prefix below was made for: one per process, in practice. */
let quotedFor: string | null = null;
let quotedPrefix = '';

/** The JSON string of a queue's URL up to its name: `"{publicUrl}/queue/`, unclosed. */
export function quotedQueuePrefix(publicUrl: string): string {
  if (publicUrl !== quotedFor) {
    quotedPrefix = JSON.stringify(queueUrl(publicUrl, '')).slice(0, -2);
    quotedFor = publicUrl;
  }
  return quotedPrefix;
}

/**
 * `JSON.stringify(queueUrl(publicUrl, queue))`, with the quoted prefix made once: serialising the
 * whole URL was two fifths of a frame's text (each message's frame and publish answer make one).
 */
function quotedQueueUrl(publicUrl: string, queue: string): string {
  if (!isPlainQueueName(queue)) return JSON.stringify(queueUrl(publicUrl, queue));
  return `${quotedQueuePrefix(publicUrl)}${queue}/"`;
}

/**
 * What a publish (or a read mark) answers: the stored message's envelope, plus the fields the
 * original Mozilla service answered (its store's `{"messages": [{key, timestamp}], "status": "ok"}`),
 * which its clients read.
 */
export interface PublishAnswer extends Envelope {
  messages: [{ key: string; timestamp: string }];
  status: 'ok';
}

export function publishAnswer(message: StoredMessage, publicUrl: string): PublishAnswer {
  const envelope = toEnvelope(message, publicUrl);
  return { ...envelope, messages: [{ key: envelope.key, timestamp: envelope.timestamp }], status: 'ok' };
}

/** `JSON.stringify(publishAnswer(message, publicUrl))`, without serialising the body again. */
export function publishAnswerJson(message: StoredMessage, publicUrl: string): string {
  const key = encodeKey(message.userId, message.seq);
  return `{${envelopeMembers(message, publicUrl)},"messages":[{"key":"${key}","timestamp":"${formatTimestamp(message.micros)}"}],"status":"ok"}`;
}

/** The envelope as JSON text: what a client of the original protocol receives for a message. */
export function envelopeJson(message: StoredMessage, publicUrl: string): string {
  return `{${envelopeMembers(message, publicUrl)}}`;
}

/** The websocket frame of a stored message: the envelope plus its type. */
export function toFrame(message: StoredMessage, publicUrl: string): string {
  return `{"type":"${message.kind}",${envelopeMembers(message, publicUrl)}}`;
}
