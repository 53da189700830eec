import gcm from 'node-gcm';
import type { Platform } from '../core/store/devices.js';
import { collapseKey, dataFields, fit, LIMITS, secondsLeft } from './payload.js';
import { everyTarget, type Delivery, type Notification, type PushProvider, type Target } from './types.js';

/** The legacy GCM HTTP API takes at most this many registration ids per request. */
const IDS_PER_REQUEST = 1000;
const DEAD = new Set(['NotRegistered', 'InvalidRegistration', 'MismatchSenderId']);
const TRANSIENT = new Set(['Unavailable', 'InternalServerError', 'DeviceMessageRateExceeded', 'TopicsMessageRateExceeded']);

interface GcmResult { message_id?: string; registration_id?: string; error?: string }

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
    const message = new gcm.Message({
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
    });
    const deliveries: Delivery[] = [];
    for (let start = 0; start < targets.length; start += IDS_PER_REQUEST) {
      deliveries.push(...(await this.sendChunk(message, targets.slice(start, start + IDS_PER_REQUEST), trimmed)));
    }
    return deliveries;
  }

  private sendChunk(message: gcm.Message, targets: readonly Target[], trimmed: boolean): Promise<Delivery[]> {
    return new Promise((resolve) => {
      this.sender.sendNoRetry(message, { registrationTokens: targets.map((target) => target.token) }, (error, response) => {
        if (error !== null && error !== undefined) {
          const status = typeof error === 'number' ? error : undefined;
          const reason = status ? `HTTP ${status}` : String((error as Error).message ?? error);
          // 401/400: our key or request is wrong, retrying will not help; 5xx and network errors will.
          resolve(everyTarget(targets, { kind: status && status < 500 ? 'failed' : 'retry', reason, statusCode: status, trimmed }));
          return;
        }
        const results = (response as { results?: GcmResult[] }).results ?? [];
        resolve(targets.map((target, index) => {
          const result = results[index] ?? { error: 'missing result' };
          const base = { jobId: target.jobId, deviceId: target.deviceId, trimmed, statusCode: 200 };
          if (result.message_id) return { ...base, kind: 'sent', ...(result.registration_id ? { canonicalToken: result.registration_id } : {}) };
          if (DEAD.has(result.error!)) return { ...base, kind: 'dead', reason: result.error };
          if (TRANSIENT.has(result.error!)) return { ...base, kind: 'retry', reason: result.error };
          return { ...base, kind: 'failed', reason: result.error };
        }));
      });
    });
  }

  async close(): Promise<void> {}
}
