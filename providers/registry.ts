import { readFileSync } from 'node:fs';
import type { Config } from '../core/config.js';
import type { ApplicationStore, Credentials } from '../core/store/applications.js';
import type { Platform } from '../core/store/devices.js';
import type { ApnsProvider } from './apns.js';
import type { ServiceAccount } from './fcm.js';
import type { GcmProvider } from './gcm.js';
import type { PushProvider } from './types.js';
import type { VapidKeys } from './webpush.js';

export const DEFAULT_APP = 'default';

/** The default application's credentials, from configuration (files read once, here). */
export function credentialsFromConfig(config: Config): Credentials {
  const credentials: Credentials = {};
  if (config.apnsTopic && (config.apnsKeyFile || config.apnsCertFile)) {
    const certificate = config.apnsCertFile ? readFileSync(config.apnsCertFile) : null;
    const isPem = certificate?.toString('latin1').includes('-----BEGIN') ?? false;
    credentials.apns = {
      topic: config.apnsTopic,
      production: config.apnsProduction,
      ...(config.apnsKeyFile ? { token: { key: readFileSync(config.apnsKeyFile, 'utf8'), keyId: config.apnsKeyId!, teamId: config.apnsTeamId! } } : {}),
      ...(certificate ? { cert: isPem ? { pem: certificate.toString('utf8'), passphrase: config.apnsPassphrase } : { p12: certificate.toString('base64'), passphrase: config.apnsPassphrase } } : {}),
    };
  }
  if (config.fcmServiceAccountFile) credentials.fcm = { serviceAccount: JSON.parse(readFileSync(config.fcmServiceAccountFile, 'utf8')) };
  if (config.gcmServerKey) credentials.gcm = { serverKey: config.gcmServerKey };
  if (config.vapidPublicKey && config.vapidPrivateKey) {
    credentials.webpush = { subject: config.vapidSubject!, publicKey: config.vapidPublicKey, privateKey: config.vapidPrivateKey };
  }
  return credentials;
}

/** The default application's VAPID keys (what browsers subscribe with): configured, or generated once and kept. */
export function defaultVapidKeys(config: Config, applications: ApplicationStore): Promise<VapidKeys> {
  if (config.vapidPublicKey && config.vapidPrivateKey) {
    return Promise.resolve({ subject: config.vapidSubject!, publicKey: config.vapidPublicKey, privateKey: config.vapidPrivateKey });
  }
  return applications.setting('vapid', async () => (await import('./webpush.js')).generateVapidKeys(config.vapidSubject!));
}

/**
 * Providers per (application, platform), created on first use from the application's stored
 * credentials; the default application's come from configuration, and its VAPID keys are
 * generated once and kept in the store when not configured.
 */
export class ProviderRegistry {
  private readonly providers = new Map<string, Promise<PushProvider | null>>();
  private readonly fromConfig: Credentials;

  constructor(private readonly config: Config, private readonly applications: ApplicationStore) {
    this.fromConfig = credentialsFromConfig(config);
  }

  vapid(): Promise<VapidKeys> {
    return defaultVapidKeys(this.config, this.applications);
  }

  /** Null when the application has no credentials for this platform. */
  provider(app: string, platform: Platform): Promise<PushProvider | null> {
    const key = `${app}\u0000${platform}`;
    let provider = this.providers.get(key);
    if (!provider) {
      provider = this.create(app, platform);
      this.providers.set(key, provider);
    }
    return provider;
  }

  /** The application's APNS provider, for raw sends (the compatibility APIs). */
  async apns(app: string): Promise<ApnsProvider | null> {
    return (await this.provider(app, 'apns')) as ApnsProvider | null;
  }

  /** A GCM provider on this server key when one is given, else the application's. */
  async gcm(app: string, serverKey?: string): Promise<GcmProvider | null> {
    if (serverKey) return new (await import('./gcm.js')).GcmProvider(serverKey, this.config.gcmEndpoint!);
    return (await this.provider(app, 'gcm')) as GcmProvider | null;
  }

  /** Drops the cached providers of an application whose credentials changed. */
  async forget(app: string): Promise<void> {
    for (const [key, provider] of [...this.providers]) {
      if (!key.startsWith(`${app}\u0000`)) continue;
      this.providers.delete(key);
      await provider.then((created) => created?.close()).catch(() => {});
    }
  }

  private async create(app: string, platform: Platform): Promise<PushProvider | null> {
    const stored = (await this.applications.get(app)) ?? {};
    const credentials: Credentials = app === DEFAULT_APP ? { ...stored, ...this.fromConfig } : stored;
    // Each provider's client library is loaded when first needed: together they are ~30 MB of
    // resident memory that a deployment without that platform would carry for nothing.
    switch (platform) {
      case 'apns':
        return credentials.apns ? new (await import('./apns.js')).ApnsProvider(credentials.apns, this.config.apnsAddress) : null;
      case 'fcm':
        return credentials.fcm
          ? new (await import('./fcm.js')).FcmProvider(credentials.fcm.serviceAccount as unknown as ServiceAccount, this.config.fcmEndpoint!, this.config.pushConcurrency)
          : null;
      case 'gcm':
        return credentials.gcm ? new (await import('./gcm.js')).GcmProvider(credentials.gcm.serverKey, this.config.gcmEndpoint!) : null;
      case 'webpush': {
        const vapid = credentials.webpush ?? (app === DEFAULT_APP ? await this.vapid() : null);
        if (!vapid) return null;
        const [{ WebPushProvider }, { PushServiceAddresses }] = await Promise.all([import('./webpush.js'), import('./push-service-address.js')]);
        return new WebPushProvider(vapid, this.config.pushConcurrency, new PushServiceAddresses(this.config.webPushPrivateAddresses));
      }
    }
  }

  async close(): Promise<void> {
    // A provider that failed to start, or to stop, must not stop the others from closing.
    await Promise.allSettled([...this.providers.values()].map((provider) => provider.then((created) => created?.close())));
  }
}
