/** Publishing from a back end: one message, or many messages for many queues in one request. */
import { call, defaultFetch, type Envelope, type Fetch } from './http.js';

/** What a site posts: `title` is required; the rest as documented for `POST /queue/{q}/`. */
export interface MessageFields {
  title: string;
  body?: string;
  actionUrl?: string;
  iconUrl?: string;
  replaceId?: string;
  /** Seconds. */
  ttl?: number;
  priority?: 'high' | 'normal';
}

/** One message of a batch: the queue URL (or name) and its fields. */
export interface BatchItem {
  queue: string;
  message: MessageFields;
}

/** Per item, in request order: where it was stored, or why it was not (the others are unaffected). */
export type BatchResult = { key: string; timestamp: string; queue: string } | { error: string; message: string; status: number };

/** Stores one message on a queue; resolves with its envelope once it is durable. */
export function publish(queueUrl: string, message: MessageFields, fetcher: Fetch = defaultFetch): Promise<Envelope> {
  return call(fetcher, queueUrl, { method: 'POST', json: message });
}

/** The most messages one `POST /publish` takes by default (PUSHWIRE_MAX_BATCH_MESSAGES). */
export const DEFAULT_BATCH_MAX = 1000;

/**
 * Stores many messages on many queues, `batchSize` per request (one transaction each), and
 * answers one result per item in order. Notifying 100,000 users takes 100 requests.
 */
export async function publishBatch(api: string, items: readonly BatchItem[], options: { batchSize?: number; fetcher?: Fetch } = {}): Promise<BatchResult[]> {
  const size = options.batchSize ?? DEFAULT_BATCH_MAX;
  const url = new URL('/publish', api).href;
  const results: BatchResult[] = [];
  for (let start = 0; start < items.length; start += size) {
    const answer = await call<{ results: BatchResult[] }>(options.fetcher ?? defaultFetch, url, { method: 'POST', json: { messages: items.slice(start, start + size) } });
    results.push(...answer.results);
  }
  return results;
}
