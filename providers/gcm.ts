import gcm from 'node-gcm';
import type { Platform } from '../core/store/devices.js';
import { collapseKey, dataFields, fit, LIMITS, secondsLeft } from './payload.js';
import type { Delivery, Notification, PushProvider, Target } from './types.js';

/** The legacy GCM HTTP API takes at most this many registration ids per request. */
const IDS_PER_REQUEST = 1000;
const DEAD = new Set(['NotRegistered', 'InvalidRegistration', 'MismatchSenderId']);
const TRANSIENT = new Set(['Unavailable', 'InternalServerError', 'DeviceMessageRateExceeded', 'TopicsMessageRateExceeded']);

interface RawResult { message_id?: string; registration_id?: string; error?: string }

/** One registration id's result; `reason` is GCM's error name (NotRegistered, MessageTooBig...). */
export type GcmResult = Omit<Delivery, 'jobId' | 'deviceId' | 'trimmed'> & { token: string; messageId?: string };

/**
 * Legacy GCM/FCM HTTP (node-gcm): 1,000 ids per request, per-id results, canonical ids.
 * Google shut its endpoint in July 2024; GCM-compatible services still speak it, so the
 * endpoint is configurable. node-gcm's retries are off: the outbox retries with backoff.
 */
export class GcmProvider implements PushProvider {
  readonly platform: Platform = 'gcm';
  private readonly sender: gcm.Sender;

  constructor(serverKey: string, endpoint: string) {
    // node-gcm takes `uri` (its types omit it): where the legacy send endpoint lives.
    this.sender = new gcm.Sender(serverKey, { uri: endpoint, timeout: 10_000 } as gcm.ISenderOptions);
  }

  async send(notification: Notification, targets: readonly Target[]): Promise<Delivery[]> {
    const { payload, trimmed } = fit(notification, LIMITS.gcm, (title, body) =>
      JSON.stringify({ notification: { title, ...(body === undefined ? {} : { body }) }, data: dataFields(notification) }));
    const parsed = JSON.parse(payload) as { notification: { title: string; body?: string }; data: Record<string, string> };
    const results = await this.sendRaw({
      collapseKey: collapseKey(notification.collapseId),
      priority: notification.priority,
      timeToLive: secondsLeft(notification),
      // node-gcm's types demand an icon; the protocol does not.
      notification: {
        ...parsed.notification,
        ...(notification.iconUrl ? { icon: notification.iconUrl } : {}),
        ...(notification.actionUrl ? { click_action: notification.actionUrl } : {}),
      } as gcm.INotificationOptions,
      data: parsed.data,
    }, targets.map((target) => target.token));
    return results.map(({ token: _token, messageId: _messageId, ...result }, index) => ({ jobId: targets[index].jobId, deviceId: targets[index].deviceId, ...result, trimmed }));
  }

  /** Sends one message to many registration ids, 1,000 per request; results in the order of `ids`. */
  async sendRaw(options: gcm.IMessageOptions, ids: readonly string[]): Promise<GcmResult[]> {
    const message = new gcm.Message(options);
    const results: GcmResult[] = [];
    for (let start = 0; start < ids.length; start += IDS_PER_REQUEST) results.push(...(await this.sendChunk(message, ids.slice(start, start + IDS_PER_REQUEST))));
    return results;
  }

  private sendChunk(message: gcm.Message, ids: readonly string[]): Promise<GcmResult[]> {
    return new Promise((resolve) => {
      this.sender.sendNoRetry(message, { registrationTokens: [...ids] }, (error, response) => {
        if (error !== null && error !== undefined) {
          const status = typeof error === 'number' ? error : undefined;
          const reason = status ? `HTTP ${status}` : String((error as Error).message ?? error);
          // 401/400: our key or request is wrong, retrying will not help; 5xx and network errors will.
          resolve(ids.map((token) => ({ token, kind: status && status < 500 ? 'failed' : 'retry', reason, statusCode: status })));
          return;
        }
        const results = (response as { results?: RawResult[] }).results ?? [];
        resolve(ids.map((token, index): GcmResult => {
          const result = results[index] ?? { error: 'missing result' };
          const base = { token, statusCode: 200 };
          if (result.message_id) return { ...base, kind: 'sent', messageId: result.message_id, ...(result.registration_id ? { canonicalToken: result.registration_id } : {}) };
          if (DEAD.has(result.error!)) return { ...base, kind: 'dead', reason: result.error };
          if (TRANSIENT.has(result.error!)) return { ...base, kind: 'retry', reason: result.error };
          return { ...base, kind: 'failed', reason: result.error };
        }));
      });
    });
  }

  async close(): Promise<void> {}
}
