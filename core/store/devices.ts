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

/** A user's registered devices: where offline messages are pushed. */
export interface DeviceStore {
  /**
   * Registers a device for this user, de-duplicated by (app, platform, token): registering a
   * token again (from this user or another) binds it to this user and revives it.
   */
  register(userId: number, device: NewDevice): Promise<{ device: Device; created: boolean }>;
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
