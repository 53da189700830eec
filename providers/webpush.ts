import https from 'node:https';
import webpush, { WebPushError } from 'web-push';
import type { Platform } from '../core/store/devices.js';
import { dataFields, fit, LIMITS, secondsLeft, webPushTopic } from './payload.js';
import { RefusedAddressError, type PushServiceAddresses } from './push-service-address.js';
import { inPool, retryAfterMs, type Delivery, type Notification, type PushProvider, type Target } from './types.js';

/** RFC 8292 allows up to 24 h; sign for 12 h and renew an hour before expiry. */
const VAPID_LIFETIME_SECONDS = 12 * 3600;
const VAPID_REFRESH_SECONDS = 3600;

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
  private readonly signed = new Map<string, { header: string; expiresAt: number }>();

  constructor(private readonly vapid: VapidKeys, private readonly concurrency: number, private readonly addresses: PushServiceAddresses, private readonly timeoutMs = 10_000) {
    // Every connection's addresses pass the policy after DNS (see push-service-address.ts).
    this.agent = new https.Agent({ keepAlive: true, maxSockets: concurrency, lookup: addresses.lookup as never });
  }

  async send(notification: Notification, targets: readonly Target[]): Promise<Delivery[]> {
    const { payload, trimmed } = fit(notification, LIMITS.webpush, (title, body) =>
      JSON.stringify({ title, ...(body === undefined ? {} : { body }), ...dataFields(notification) }));
    const options = {
      TTL: secondsLeft(notification),
      topic: webPushTopic(notification.collapseId),
      urgency: notification.priority === 'high' ? 'high' : 'normal',
      timeout: this.timeoutMs,
      agent: this.agent,
    } as const;
    return inPool(targets, this.concurrency, async (target): Promise<Delivery> => {
      const base = { jobId: target.jobId, deviceId: target.deviceId, trimmed };
      if (!target.keys) return { ...base, kind: 'dead', reason: 'subscription has no keys' };
      // An address literal needs no lookup, so the agent's check would not run: checked here.
      const literal = this.addresses.endpointRefusal(target.token);
      if (literal) return { ...base, kind: 'dead', reason: `not a push service: ${literal}` };
      try {
        const headers = { Authorization: this.authorization(target.token) };
        const result = await webpush.sendNotification({ endpoint: target.token, keys: target.keys }, payload, { ...options, headers });
        return { ...base, kind: 'sent', statusCode: result.statusCode };
      } catch (error) {
        if (error instanceof RefusedAddressError) return { ...base, kind: 'dead', reason: `not a push service: ${error.message}` };
        if (!(error instanceof WebPushError)) return { ...base, kind: 'retry', reason: (error as Error).message };
        const status = error.statusCode;
        const reason = `${status} ${error.body || error.message}`.trim().slice(0, 200);
        if (status === 404 || status === 410) return { ...base, kind: 'dead', statusCode: status, reason };
        if (status === 429 || status >= 500) return { ...base, kind: 'retry', statusCode: status, reason, retryAfterMs: retryAfterMs(error.headers?.['retry-after']) };
        return { ...base, kind: 'failed', statusCode: status, reason };
      }
    });
  }

  /**
   * The VAPID Authorization for an endpoint's push service. A signed JWT is valid for hours and
   * depends only on the audience (the service's origin), so it is signed once per origin and
   * reused until close to its expiry instead of once per message and device.
   */
  private authorization(endpoint: string): string {
    const audience = new URL(endpoint).origin;
    const now = Math.floor(Date.now() / 1000);
    const cached = this.signed.get(audience);
    if (cached && cached.expiresAt - now > VAPID_REFRESH_SECONDS) return cached.header;
    const expiresAt = now + VAPID_LIFETIME_SECONDS;
    const header = webpush.getVapidHeaders(audience, this.vapid.subject, this.vapid.publicKey, this.vapid.privateKey, 'aes128gcm', expiresAt).Authorization;
    this.signed.set(audience, { header, expiresAt });
    return header;
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }
}

export function generateVapidKeys(subject: string): VapidKeys {
  return { subject, ...webpush.generateVAPIDKeys() };
}
