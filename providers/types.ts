import type { Platform, WebPushKeys } from '../core/store/devices.js';

/** What every platform is told about one message. */
export interface Notification {
  title: string;
  body?: string;
  actionUrl?: string;
  iconUrl?: string;
  /** replaceId, or the message key when there is none: a resend collapses onto the first. */
  collapseId: string;
  /** Where the client resumes from after waking: the message's envelope minus its body. */
  envelope: { key: string; queue: string; timestamp: string };
  /** Seconds since the epoch after which the message is worthless. */
  expiresAt: number;
  priority: 'high' | 'normal';
}

export interface Target {
  jobId: number;
  deviceId: number;
  token: string;
  keys: WebPushKeys | null;
}

/** One target's result. `retry`: a transient failure (429, 5xx, timeout, connection). */
export interface Delivery {
  jobId: number;
  deviceId: number;
  kind: 'sent' | 'retry' | 'dead' | 'failed';
  /** The provider's reason, verbatim (BadDeviceToken, NotRegistered, UNREGISTERED, 410...). */
  reason?: string;
  statusCode?: number;
  trimmed?: boolean;
  canonicalToken?: string;
  /** The provider asked us to wait this long (Retry-After). */
  retryAfterMs?: number;
}

/** A push platform. `send` never throws: every target gets a Delivery. */
export interface PushProvider {
  readonly platform: Platform;
  send(notification: Notification, targets: readonly Target[]): Promise<Delivery[]>;
  close(): Promise<void>;
}

/** Reads a Retry-After header: seconds or an HTTP date. */
export function retryAfterMs(value: string | string[] | null | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  const seconds = Number(text);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Runs `work` over `items` with at most `limit` at a time. */
export async function inPool<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  }));
  return results;
}
