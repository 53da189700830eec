import type { Platform } from '../core/store/devices.js';
import { collapseKey, dataFields, fit, LIMITS, secondsLeft } from './payload.js';
import { retryAfterMs, type Delivery, type Notification, type PushProvider, type Target } from './types.js';

/** The legacy GCM HTTP API takes at most this many registration ids per request. */
const IDS_PER_REQUEST = 1000;
const REQUEST_TIMEOUT_MS = 10_000;
const DEAD = new Set(['NotRegistered', 'InvalidRegistration', 'MismatchSenderId']);
const TRANSIENT = new Set(['Unavailable', 'InternalServerError', 'DeviceMessageRateExceeded', 'TopicsMessageRateExceeded']);

/**
 * A legacy GCM message: the fields of the JSON body beside `registration_ids`
 * (the "Legacy HTTP server protocol" reference), named in camel case.
 */
export interface GcmMessage {
  collapseKey?: string;
  priority?: 'high' | 'normal';
  contentAvailable?: boolean;
  mutableContent?: boolean;
  delayWhileIdle?: boolean;
  /** Seconds. */
  timeToLive?: number;
  restrictedPackageName?: string;
  dryRun?: boolean;
  data?: Record<string, unknown>;
  notification?: Record<string, unknown>;
}

/** Each field's name on the wire. */
const WIRE_NAMES: Record<keyof GcmMessage, string> = {
  collapseKey: 'collapse_key', priority: 'priority', contentAvailable: 'content_available', mutableContent: 'mutable_content',
  delayWhileIdle: 'delay_while_idle', timeToLive: 'time_to_live', restrictedPackageName: 'restricted_package_name', dryRun: 'dry_run',
  data: 'data', notification: 'notification',
};

interface RawResult { message_id?: string; registration_id?: string; error?: string }

/** One registration id's result; `reason` is GCM's error name (NotRegistered, MessageTooBig...). */
export type GcmResult = Omit<Delivery, 'jobId' | 'deviceId' | 'trimmed'> & { token: string; messageId?: string };

/**
 * Legacy GCM/FCM HTTP over `fetch`: 1,000 ids per request, per-id results, canonical ids.
 * Google shut its endpoint in July 2024; GCM-compatible services still speak it, so the
 * endpoint is configurable. No retries here: the outbox retries with backoff, after a
 * Retry-After when the service gives one.
 */
export class GcmProvider implements PushProvider {
  readonly platform: Platform = 'gcm';

  constructor(private readonly serverKey: string, private readonly endpoint: string) {}

  async send(notification: Notification, targets: readonly Target[]): Promise<Delivery[]> {
    const { payload, trimmed } = fit(notification, LIMITS.gcm, (title, body) =>
      JSON.stringify({ notification: { title, ...(body === undefined ? {} : { body }) }, data: dataFields(notification) }));
    const parsed = JSON.parse(payload) as { notification: { title: string; body?: string }; data: Record<string, string> };
    const results = await this.sendRaw({
      collapseKey: collapseKey(notification.collapseId),
      priority: notification.priority,
      timeToLive: secondsLeft(notification),
      notification: {
        ...parsed.notification,
        ...(notification.iconUrl ? { icon: notification.iconUrl } : {}),
        ...(notification.actionUrl ? { click_action: notification.actionUrl } : {}),
      },
      data: parsed.data,
    }, targets.map((target) => target.token));
    return results.map(({ token: _token, messageId: _messageId, ...result }, index) => ({ jobId: targets[index].jobId, deviceId: targets[index].deviceId, ...result, trimmed }));
  }

  /** Sends one message to many registration ids, 1,000 per request; results in the order of `ids`. */
  async sendRaw(message: GcmMessage, ids: readonly string[]): Promise<GcmResult[]> {
    const fields = Object.fromEntries(Object.entries(message).filter(([, value]) => value !== undefined)
      .map(([name, value]) => [WIRE_NAMES[name as keyof GcmMessage], value]));
    const results: GcmResult[] = [];
    for (let start = 0; start < ids.length; start += IDS_PER_REQUEST) results.push(...(await this.sendChunk(fields, ids.slice(start, start + IDS_PER_REQUEST))));
    return results;
  }

  private async sendChunk(fields: Record<string, unknown>, ids: readonly string[]): Promise<GcmResult[]> {
    let response: Response;
    let answer: { results?: RawResult[] };
    try {
      response = await fetch(this.endpoint, {
        method: 'POST',
        headers: { authorization: `key=${this.serverKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...fields, registration_ids: ids }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      if (response.status !== 200) {
        await response.body?.cancel();
        const status = response.status;
        const wait = retryAfterMs(response.headers.get('retry-after'));
        // 400/401: our key or request is wrong, retrying will not help; 5xx will.
        return ids.map((token) => ({ token, kind: status < 500 ? 'failed' : 'retry', reason: `HTTP ${status}`, statusCode: status, ...(wait === undefined ? {} : { retryAfterMs: wait }) }));
      }
      answer = (await response.json()) as { results?: RawResult[] };
    } catch (error) {
      // The network, a timeout, or an answer that is not JSON: worth another attempt.
      return ids.map((token) => ({ token, kind: 'retry', reason: (error as Error).message }));
    }
    const results = answer.results ?? [];
    return ids.map((token, index): GcmResult => {
      const result = results[index] ?? { error: 'missing result' };
      const base = { token, statusCode: 200 };
      if (result.message_id) return { ...base, kind: 'sent', messageId: result.message_id, ...(result.registration_id ? { canonicalToken: result.registration_id } : {}) };
      if (DEAD.has(result.error!)) return { ...base, kind: 'dead', reason: result.error };
      if (TRANSIENT.has(result.error!)) return { ...base, kind: 'retry', reason: result.error };
      return { ...base, kind: 'failed', reason: result.error };
    });
  }

  async close(): Promise<void> {}
}
