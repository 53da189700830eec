import { JWT } from 'google-auth-library';
import type { Platform } from '../core/store/devices.js';
import { collapseKey, dataFields, fit, LIMITS, secondsLeft } from './payload.js';
import { inPool, retryAfterMs, type Delivery, type Notification, type PushProvider, type Target } from './types.js';

const SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

/** FCM v1 error codes that mean the registration token is dead. */
const DEAD = new Set(['UNREGISTERED']);

export interface ServiceAccount {
  project_id: string;
  client_email: string;
  private_key: string;
  token_uri?: string;
}

/**
 * FCM HTTP v1: an OAuth2 access token from the service account (google-auth-library), then one
 * request per registration token with bounded concurrency. The service account's `token_uri`
 * is honoured (google-auth-library always asks Google's), so a private endpoint works too.
 */
export class FcmProvider implements PushProvider {
  readonly platform: Platform = 'fcm';
  private readonly auth: JWT;

  constructor(private readonly account: ServiceAccount, private readonly endpoint: string, private readonly concurrency: number) {
    this.auth = new JWT({ email: account.client_email, key: account.private_key, scopes: [SCOPE] });
    const tokenUri = account.token_uri;
    if (tokenUri && tokenUri !== GOOGLE_TOKEN_URL) {
      this.auth.transporter.interceptors.request.add({
        resolved: async (options) => {
          if (options.url.toString() === GOOGLE_TOKEN_URL) options.url = new URL(tokenUri);
          return options;
        },
      });
    }
  }

  async send(notification: Notification, targets: readonly Target[]): Promise<Delivery[]> {
    const { payload, trimmed } = fit(notification, LIMITS.fcm, (title, body) =>
      JSON.stringify({ notification: { title, ...(body === undefined ? {} : { body }) }, data: dataFields(notification) }));
    const content = JSON.parse(payload) as { notification: Record<string, string>; data: Record<string, string> };
    if (notification.iconUrl) content.notification.image = notification.iconUrl;
    let token: string;
    try {
      token = (await this.auth.getAccessToken()).token!;
    } catch (error) {
      return targets.map((target) => ({ jobId: target.jobId, deviceId: target.deviceId, kind: 'retry', reason: `access token: ${(error as Error).message}`, trimmed }));
    }
    const url = `${this.endpoint.replace(/\/+$/, '')}/v1/projects/${this.account.project_id}/messages:send`;
    return inPool(targets, this.concurrency, async (target): Promise<Delivery> => {
      const base = { jobId: target.jobId, deviceId: target.deviceId, trimmed };
      const message = {
        token: target.token,
        ...content,
        android: {
          collapse_key: collapseKey(notification.collapseId),
          ttl: `${secondsLeft(notification)}s`,
          priority: notification.priority === 'high' ? 'HIGH' : 'NORMAL',
        },
      };
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ message }),
          signal: AbortSignal.timeout(10_000),
        });
        const body = (await response.json().catch(() => ({}))) as { error?: { status?: string; message?: string; details?: { errorCode?: string }[] } };
        if (response.ok) return { ...base, kind: 'sent', statusCode: response.status };
        const code = body.error?.details?.find((detail) => detail.errorCode)?.errorCode ?? body.error?.status ?? `HTTP ${response.status}`;
        if (response.status === 429 || response.status >= 500) return { ...base, kind: 'retry', statusCode: response.status, reason: code, retryAfterMs: retryAfterMs(response.headers.get('retry-after')) };
        if (response.status === 404 || DEAD.has(code)) return { ...base, kind: 'dead', statusCode: response.status, reason: code };
        return { ...base, kind: 'failed', statusCode: response.status, reason: code };
      } catch (error) {
        return { ...base, kind: 'retry', reason: (error as Error).message };
      }
    });
  }

  async close(): Promise<void> {}
}
