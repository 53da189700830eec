import apn from '@parse/node-apn';
import type { ApnsCredentials } from '../core/store/applications.js';
import { pemFromP12 } from './apns-certificate.js';
import type { Platform } from '../core/store/devices.js';
import { collapseKey, dataFields, fit, LIMITS } from './payload.js';
import type { Delivery, Notification, PushProvider, Target } from './types.js';

export interface ApnsRequest {
  /** The whole JSON payload: `aps` and any custom keys. */
  payload: Record<string, unknown>;
  /** Seconds since the epoch (0: do not store). */
  expiry: number;
  priority: 5 | 10;
  collapseId?: string;
  pushType: 'alert' | 'background';
}

export type TokenResult = Omit<Delivery, 'jobId' | 'deviceId' | 'trimmed'> & { token: string };

/** APNS reasons that mean the token will never work again. */
const DEAD = new Set(['Unregistered', 'BadDeviceToken', 'DeviceTokenNotForTopic']);

/**
 * Apple Push Notification service over one HTTP/2 connection (node-apn multiplexes every
 * device of a batch as concurrent streams). Token (.p8) or certificate (PEM/P12) auth.
 * node-apn's own retries are off: the outbox retries with backoff instead.
 */
export class ApnsProvider implements PushProvider {
  readonly platform: Platform = 'apns';
  /** The client, or why there is none: credentials node-apn refuses fail each send, never the process. */
  private readonly provider: apn.Provider | { unusable: string };

  constructor(private readonly credentials: ApnsCredentials, address?: string) {
    const [host, port] = address ? address.split(':') : [];
    try {
      this.provider = new apn.Provider({
        ...ApnsProvider.auth(credentials),
        production: credentials.production,
        ...(host ? { address: host } : {}),
        ...(port ? { port: Number(port) } : {}),
        connectionRetryLimit: 0,
      } as apn.ProviderOptions);
    } catch (error) {
      this.provider = { unusable: `APNS credentials unusable: ${(error as Error).message}` };
    }
  }

  /** A P12 (stored before certificates were kept as PEM, or from configuration) is read here: node-apn cannot read every form. */
  private static auth(credentials: ApnsCredentials): Partial<apn.ProviderOptions> {
    if (credentials.token) return { token: credentials.token };
    if (credentials.cert?.p12) return pemFromP12(Buffer.from(credentials.cert.p12, 'base64'), credentials.cert.passphrase);
    return { cert: credentials.cert?.pem, key: credentials.cert?.key ?? credentials.cert?.pem, passphrase: credentials.cert?.passphrase };
  }

  async send(notification: Notification, targets: readonly Target[]): Promise<Delivery[]> {
    const { payload, trimmed } = fit(notification, LIMITS.apns, (title, body) => JSON.stringify({
      aps: { alert: { title, ...(body === undefined ? {} : { body }) }, 'mutable-content': 1 },
      pushwire: dataFields(notification),
    }));
    const results = await this.sendRaw({
      payload: JSON.parse(payload), expiry: Math.floor(notification.expiresAt), priority: notification.priority === 'high' ? 10 : 5,
      collapseId: collapseKey(notification.collapseId), pushType: 'alert',
    }, targets.map((target) => target.token));
    const byToken = new Map(targets.map((target) => [target.token, target]));
    return results.map(({ token, ...result }) => ({ jobId: byToken.get(token)!.jobId, deviceId: byToken.get(token)!.deviceId, ...result, trimmed }));
  }

  /** Sends one APNS payload to many tokens; one result per distinct token. */
  async sendRaw(request: ApnsRequest, tokens: readonly string[]): Promise<TokenResult[]> {
    const note = new apn.Notification();
    note.rawPayload = request.payload;
    note.topic = this.credentials.topic;
    note.expiry = request.expiry;
    note.priority = request.priority;
    if (request.collapseId) note.collapseId = request.collapseId;
    note.pushType = request.pushType;
    const unique = [...new Set(tokens)];
    const provider = this.provider;
    if ('unusable' in provider) return unique.map((token) => ({ token, kind: 'failed', reason: provider.unusable }));
    let result: Awaited<ReturnType<apn.Provider['send']>>;
    try {
      result = await provider.send(note, unique);
    } catch (error) {
      return unique.map((token) => ({ token, kind: 'retry', reason: (error as Error).message }));
    }
    const results: TokenResult[] = result.sent.map((sent) => ({ token: sent.device, kind: 'sent', statusCode: 200 }));
    for (const failure of result.failed) {
      const base = { token: failure.device, statusCode: failure.status };
      const reason = failure.response?.reason ?? failure.error?.message ?? 'unknown';
      if (failure.status === undefined || failure.status === 429 || failure.status >= 500) results.push({ ...base, kind: 'retry', reason });
      else if (failure.status === 410 || DEAD.has(reason)) results.push({ ...base, kind: 'dead', reason });
      else results.push({ ...base, kind: 'failed', reason });
    }
    return results;
  }

  async close(): Promise<void> {
    if (!('unusable' in this.provider)) await this.provider.shutdown();
  }
}
