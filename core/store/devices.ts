export type Platform = 'apns' | 'fcm' | 'gcm' | 'webpush';
export const PLATFORMS: readonly Platform[] = ['apns', 'fcm', 'gcm', 'webpush'];

export interface WebPushKeys {
  p256dh: string;
  auth: string;
}

export interface Device {
  id: number;
  userId: number;
  app: string;
  platform: Platform;
  /** APNS device token, FCM/GCM registration id, or Web Push endpoint. */
  token: string;
  keys: WebPushKeys | null;
  expirationTime: number | null;
  createdAt: string;
  expiredAt: string | null;
  expiredReason: string | null;
}

export interface NewDevice {
  app: string;
  platform: Platform;
  token: string;
  keys?: WebPushKeys | null;
  expirationTime?: number | null;
}

export type Registration =
  | { outcome: 'created' | 'updated'; device: Device }
  | { outcome: 'taken' }
  | { outcome: 'full' };

/** A user's registered devices: where offline messages are pushed. */
export interface DeviceStore {
  /**
   * Registers a device for this user, de-duplicated by (app, platform, token). A device belongs to
   * one user: the user's own token again is `updated` (keys, expiry, revived); another user's live
   * token is `taken` and stays theirs (nobody redirects a victim's device by knowing its token);
   * a token a provider declared dead is nobody's and may be registered anew. A new one is
   * `created`, unless the user holds `maxDevices` already (`full`). Atomic per user: concurrent
   * registrations never pass the cap.
   */
  register(userId: number, device: NewDevice, maxDevices: number): Promise<Registration>;
  list(userId: number): Promise<Device[]>;
  count(userId: number): Promise<number>;
  remove(userId: number, deviceId: number): Promise<boolean>;
  /** Tokens of an application that a provider declared dead, registered or not, newest first (like Apple's feedback service). */
  expired(app: string, limit: number): Promise<ExpiredToken[]>;
  /** Remembers tokens a provider declared dead when sent to directly (not as registered devices). */
  recordDead(app: string, platform: Platform, tokens: readonly { token: string; reason: string }[]): Promise<void>;
}

export interface ExpiredToken {
  platform: Platform;
  token: string;
  expiredAt: string;
  reason: string;
}
