export interface ApnsCredentials {
  /** Token auth: .p8 key (PEM), key id, team id. */
  token?: { key: string; keyId: string; teamId: string };
  /** Certificate auth: PEM certificate and key, or a P12 (base64) with its passphrase. */
  cert?: { pem?: string; key?: string; p12?: string; passphrase?: string };
  topic: string;
  production: boolean;
}

export interface Credentials {
  apns?: ApnsCredentials;
  /** FCM HTTP v1: the service-account JSON. */
  fcm?: { serviceAccount: Record<string, string> };
  /** Legacy GCM HTTP: server key. */
  gcm?: { serverKey: string };
  webpush?: { subject: string; publicKey: string; privateKey: string };
}

/** Provider credentials per application id. The application `default` comes from configuration. */
export interface ApplicationStore {
  get(id: string): Promise<Credentials | null>;
  put(id: string, credentials: Credentials): Promise<void>;
  /** A value generated once and then kept (VAPID keys): the first writer wins. */
  setting<T>(name: string, create: () => T | Promise<T>): Promise<T>;
}
