import { randomBytes } from 'node:crypto';

/** 128 random bits, hex: unguessable tokens and queue names. */
export function randomId(): string {
  return randomBytes(16).toString('hex');
}

const KEY_PATTERN = /^[0-9a-f]{24}$/;
const HALF = 12;

/**
 * A message key names one position in one user's sequence: 12 hex digits of the user id
 * then 12 of the sequence number. Keys of one user sort in delivery order, and "everything
 * after key K" is an exact range, because a user's sequence numbers commit in order.
 */
export function encodeKey(userId: number, seq: number): string {
  return userId.toString(16).padStart(HALF, '0') + seq.toString(16).padStart(HALF, '0');
}

export function decodeKey(key: string): { userId: number; seq: number } | null {
  if (!KEY_PATTERN.test(key)) return null;
  return { userId: parseInt(key.slice(0, HALF), 16), seq: parseInt(key.slice(HALF), 16) };
}

const TIMESTAMP_PATTERN = /^\d{1,12}(\.\d{1,6})?$/;

/** Seconds since the epoch with microseconds, as the wire carries timestamps. */
/**
 * Seconds since the epoch with six decimals. A stored time is whole microseconds: split exactly
 * into seconds and microseconds, it takes half the time `toFixed` does (the text is the same: the
 * division `toFixed` rounds is within its last decimal until the year 2106). Frames and publish
 * answers each carry one.
 */
export function formatTimestamp(micros: number): string {
  if (!Number.isSafeInteger(micros) || micros < 0) return (micros / 1e6).toFixed(6);
  const seconds = Math.floor(micros / 1e6);
  const fraction = micros - seconds * 1e6;
  return `${seconds}.${fraction >= 100_000 ? fraction : String(fraction).padStart(6, '0')}`;
}

export function parseTimestamp(value: string): number | null {
  if (!TIMESTAMP_PATTERN.test(value)) return null;
  return Math.round(Number(value) * 1e6);
}

/** A resume position: after a key of this user, or after a point in time. */
export type Since = { seq: number } | { micros: number };

/** Parses `since` for one user; null when it is neither a timestamp nor one of this user's keys. */
export function parseSince(value: string, userId: number): Since | null {
  const key = decodeKey(value);
  if (key) return key.userId === userId ? { seq: key.seq } : null;
  const micros = parseTimestamp(value);
  return micros === null ? null : { micros };
}
