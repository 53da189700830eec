import { createHash } from 'node:crypto';
import type { Notification } from './types.js';

/** Payload limits in bytes: APNS and FCM 4 KB of JSON; Web Push 4096 octets encrypted, of which 3993 are plaintext (RFC 8291). */
export const LIMITS = { apns: 4096, fcm: 4096, gcm: 4096, webpush: 3993 } as const;

/**
 * Builds a payload within `limit` bytes: when too big, the body is shortened first, then
 * the title, each ending in an ellipsis. Never fails for size alone.
 */
export function fit(notification: Notification, limit: number, build: (title: string, body: string | undefined) => string): { payload: string; trimmed: boolean } {
  const full = build(notification.title, notification.body);
  if (Buffer.byteLength(full) <= limit) return { payload: full, trimmed: false };
  const body = notification.body ?? '';
  const withBody = longestFitting(body.length, (length) => build(notification.title, shorten(body, length)), limit);
  if (withBody !== null) return { payload: build(notification.title, shorten(body, withBody)), trimmed: true };
  const withTitle = longestFitting(notification.title.length, (length) => build(shorten(notification.title, length), undefined), limit);
  return { payload: build(shorten(notification.title, withTitle ?? 0), undefined), trimmed: true };
}

/**
 * The longest prefix of `text` (ending in "…" when cut) whose payload fits in `limit` bytes;
 * null when not even one character fits.
 */
export function shortenToFit(text: string, limit: number, build: (shortened: string) => string): string | null {
  if (Buffer.byteLength(build(text)) <= limit) return text;
  const length = longestFitting(text.length, (n) => build(shorten(text, n)), limit);
  return length === null ? null : shorten(text, length);
}

function shorten(text: string, length: number): string {
  return length >= text.length ? text : `${[...text].slice(0, Math.max(0, length - 1)).join('')}…`;
}

/** Binary search for the longest length whose payload fits; null if even length 1 does not. */
function longestFitting(max: number, build: (length: number) => string, limit: number): number | null {
  let low = 1;
  let high = max;
  let best: number | null = null;
  while (low <= high) {
    const middle = Math.floor((low + high) / 2);
    if (Buffer.byteLength(build(middle)) <= limit) {
      best = middle;
      low = middle + 1;
    } else high = middle - 1;
  }
  return best;
}

const hash = (text: string, encoding: 'hex' | 'base64url') => createHash('sha256').update(text).digest(encoding);

/** Web Push `Topic`: at most 32 base64url characters; longer or other ids are hashed deterministically. */
export function webPushTopic(collapseId: string): string {
  return /^[A-Za-z0-9_-]{1,32}$/.test(collapseId) ? collapseId : hash(collapseId, 'base64url').slice(0, 32);
}

/** `apns-collapse-id` and FCM `collapse_key`: at most 64 bytes; longer ids become their SHA-256 (64 hex digits). */
export function collapseKey(collapseId: string): string {
  return Buffer.byteLength(collapseId) <= 64 ? collapseId : hash(collapseId, 'hex');
}

/** Seconds until expiry, at least 0. */
export const secondsLeft = (notification: Notification, now = Date.now()): number => Math.max(0, Math.floor(notification.expiresAt - now / 1000));

/** The data every platform carries so the woken client can resume: the envelope plus the links. */
export function dataFields(notification: Notification): Record<string, string> {
  const data: Record<string, string> = { ...notification.envelope };
  if (notification.actionUrl) data.actionUrl = notification.actionUrl;
  if (notification.iconUrl) data.iconUrl = notification.iconUrl;
  return data;
}
