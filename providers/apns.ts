import apn from '@parse/node-apn';
import type { ApnsCredentials } from '../core/store/applications.js';
import type { Platform } from '../core/store/devices.js';
import { collapseKey, dataFields, fit, LIMITS } from './payload.js';
import type { Delivery, Notification, PushProvider, Target } from './types.js';

/** APNS reasons that mean the token will never work again. */
const DEAD = new Set(['Unregistered', 'BadDeviceToken', 'DeviceTokenNotForTopic']);

/**
 * Apple Push Notification service over one HTTP/2 connection (node-apn multiplexes every
 * device of a batch as concurrent streams). Token (.p8) or certificate (PEM/P12) auth.
 * node-apn's own retries are off: the outbox retries with backoff instead.
 */
export class ApnsProvider implements PushProvider {
  readonly platform: Platform = 'apns';
  private readonly provider: apn.Provider;

  constructor(private readonly credentials: ApnsCredentials, address?: string) {
    const [host, port] = address ? address.split(':') : [];
    const auth = credentials.token
      ? { token: credentials.token }
      : credentials.cert?.p12
        ? { pfx: Buffer.from(credentials.cert.p12, 'base64'), passphrase: credentials.cert.passphrase }
        : { cert: credentials.cert?.pem, key: credentials.cert?.key ?? credentials.cert?.pem, passphrase: credentials.cert?.passphrase };
    this.provider = new apn.Provider({
      ...auth,
      production: credentials.production,
      ...(host ? { address: host } : {}),
      ...(port ? { port: Number(port) } : {}),
      connectionRetryLimit: 0,
    } as apn.ProviderOptions);
  }

  async send(notification: Notification, targets: readonly Target[]): Promise<Delivery[]> {
    const { payload, trimmed } = fit(notification, LIMITS.apns, (title, body) => JSON.stringify({
      aps: { alert: { title, ...(body === undefined ? {} : { body }) }, 'mutable-content': 1 },
      pushwire: dataFields(notification),
    }));
    const note = new apn.Notification();
    note.rawPayload = JSON.parse(payload);
    note.topic = this.credentials.topic;
    note.expiry = Math.floor(notification.expiresAt);
    note.priority = notification.priority === 'high' ? 10 : 5;
    note.collapseId = collapseKey(notification.collapseId);
    note.pushType = 'alert';
    const byToken = new Map(targets.map((target) => [target.token, target]));
    const deliveries: Delivery[] = [];
    let result: Awaited<ReturnType<apn.Provider['send']>>;
    try {
      result = await this.provider.send(note, [...byToken.keys()]);
    } catch (error) {
      return targets.map((target) => ({ jobId: target.jobId, deviceId: target.deviceId, kind: 'retry', reason: (error as Error).message, trimmed }));
    }
    for (const sent of result.sent) {
      const target = byToken.get(sent.device)!;
      deliveries.push({ jobId: target.jobId, deviceId: target.deviceId, kind: 'sent', statusCode: 200, trimmed });
    }
    for (const failure of result.failed) {
      const target = byToken.get(failure.device)!;
      const base = { jobId: target.jobId, deviceId: target.deviceId, trimmed, statusCode: failure.status };
      const reason = failure.response?.reason ?? failure.error?.message ?? 'unknown';
      if (failure.status === undefined || failure.status === 429 || failure.status >= 500) deliveries.push({ ...base, kind: 'retry', reason });
      else if (failure.status === 410 || DEAD.has(reason)) deliveries.push({ ...base, kind: 'dead', reason });
      else deliveries.push({ ...base, kind: 'failed', reason });
    }
    return deliveries;
  }

  async close(): Promise<void> {
    await this.provider.shutdown();
  }
}
