import https from 'node:https';
import webpush, { WebPushError } from 'web-push';
import type { Platform } from '../core/store/devices.js';
import { dataFields, fit, LIMITS, secondsLeft, webPushTopic } from './payload.js';
import { inPool, retryAfterMs, type Delivery, type Notification, type PushProvider, type Target } from './types.js';

export interface VapidKeys {
  subject: string;
  publicKey: string;
  privateKey: string;
}

/** Web Push (RFC 8030/8291/8292) through `web-push`: one request per subscription, bounded concurrency. */
export class WebPushProvider implements PushProvider {
  readonly platform: Platform = 'webpush';

  /** Keep-alive: subscriptions cluster on a few push services, so reuse their TLS connections. */
  private readonly agent: https.Agent;

  constructor(private readonly vapid: VapidKeys, private readonly concurrency: number, private readonly timeoutMs = 10_000) {
    this.agent = new https.Agent({ keepAlive: true, maxSockets: concurrency });
  }

  async send(notification: Notification, targets: readonly Target[]): Promise<Delivery[]> {
    const { payload, trimmed } = fit(notification, LIMITS.webpush, (title, body) =>
      JSON.stringify({ title, ...(body === undefined ? {} : { body }), ...dataFields(notification) }));
    const options = {
      TTL: secondsLeft(notification),
      topic: webPushTopic(notification.collapseId),
      urgency: notification.priority === 'high' ? 'high' : 'normal',
      vapidDetails: this.vapid,
      timeout: this.timeoutMs,
      agent: this.agent,
    } as const;
    return inPool(targets, this.concurrency, async (target): Promise<Delivery> => {
      const base = { jobId: target.jobId, deviceId: target.deviceId, trimmed };
      if (!target.keys) return { ...base, kind: 'dead', reason: 'subscription has no keys' };
      try {
        const result = await webpush.sendNotification({ endpoint: target.token, keys: target.keys }, payload, options);
        return { ...base, kind: 'sent', statusCode: result.statusCode };
      } catch (error) {
        if (!(error instanceof WebPushError)) return { ...base, kind: 'retry', reason: (error as Error).message };
        const status = error.statusCode;
        const reason = `${status} ${error.body || error.message}`.trim().slice(0, 200);
        if (status === 404 || status === 410) return { ...base, kind: 'dead', statusCode: status, reason };
        if (status === 429 || status >= 500) return { ...base, kind: 'retry', statusCode: status, reason, retryAfterMs: retryAfterMs(error.headers?.['retry-after']) };
        return { ...base, kind: 'failed', statusCode: status, reason };
      }
    });
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }
}

export function generateVapidKeys(subject: string): VapidKeys {
  return { subject, ...webpush.generateVAPIDKeys() };
}
