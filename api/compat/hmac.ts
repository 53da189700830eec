import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PushwireError, type ErrorCode } from '../../core/errors.js';
import type { NonceCache } from '../../core/presence/presence.js';

/**
 * Moxie request signing, in two schemes; a request passes with either.
 *
 * Moxie's own (moxie/authentication.py), what its clients and auth_test.sh send: joined with "\n",
 *
 *   METHOD, the absolute URL the client addressed, "date:" + Date, "x-hmac-nonce:" + X-HMAC-Nonce
 *
 * Pushwire's, which also signs the key and the body (a request cannot be altered in flight):
 *
 *   METHOD, path and query as sent, X-Moxie-Key, X-HMAC-Nonce, Date, raw body ("" if none)
 *
 * Authorization is the lowercase hex HMAC of the string with the key's shared secret: SHA-1
 * (40 hex digits, Moxie's) or SHA-256 (64). Unlike Moxie, a Date further than `windowSeconds` from
 * now is refused and each (key, nonce) is accepted once within the window, so a captured request
 * cannot be replayed.
 */
export function originalSignedString(method: string, url: string, date: string, nonce: string): string {
  return [method.toUpperCase(), url, `date:${date}`, `x-hmac-nonce:${nonce}`].join('\n');
}

export function signedString(method: string, path: string, key: string, nonce: string, date: string, body: string): string {
  return [method.toUpperCase(), path, key, nonce, date, body].join('\n');
}

export function sign(secret: string, text: string, algorithm: 'sha1' | 'sha256' = 'sha1'): string {
  return createHmac(algorithm, secret).update(text).digest('hex');
}

/** The URL as the client addressed it, as Moxie's server (Werkzeug) saw it: scheme, Host without a default port, path and query as sent. */
export function addressedUrl(request: Pick<FastifyRequest, 'protocol' | 'host' | 'url'>): string {
  const host = request.host.replace(request.protocol === 'https' ? /:443$/ : /:80$/, '');
  return `${request.protocol}://${host}${request.url.replace(/\?$/, '')}`;
}

/** date(1)'s zone abbreviations that JavaScript does not read (it knows UTC, GMT and the US ones): auth_test.sh sends date(1)'s output. */
const ZONES: Record<string, string> = { BST: '+0100', IST: '+0100', CET: '+0100', CEST: '+0200', EET: '+0200', EEST: '+0300', WET: '+0000', WEST: '+0100', MSK: '+0300', JST: '+0900', KST: '+0900', AEST: '+1000', AEDT: '+1100', NZST: '+1200', NZDT: '+1300' };

/** An HTTP date (RFC 1123), or date(1)'s `Sat Dec  5 09:09:16 CET 2026`; NaN if neither. */
export function parseDateHeader(value: string): number {
  return Date.parse(value.replace(/ ([A-Z]{3,4}) (\d{4})$/, (whole, zone: string, year: string) => (ZONES[zone] ? ` GMT${ZONES[zone]} ${year}` : whole)));
}

/** Moxie's challenge on a 401 (moxie/authentication.py), byte for byte, trailing comma included. */
const challenge = (reason: string) => `HMACDigest realm="HMACDigest Moxie", reason="${reason}", algorithm="HMAC-SHA-1", `;

function refuse(reply: FastifyReply, code: ErrorCode, reason: string, message?: string): never {
  void reply.header('www-authenticate', challenge(reason));
  throw new PushwireError(code, message);
}

const matches = (signature: string, expected: string) => signature.length === expected.length && timingSafeEqual(Buffer.from(signature), Buffer.from(expected));

export async function verifyMoxieRequest(request: FastifyRequest & { rawBody?: string }, reply: FastifyReply, users: Record<string, string>, nonces: NonceCache, windowSeconds: number): Promise<void> {
  const header = (name: string) => {
    const value = request.headers[name];
    return typeof value === 'string' ? value : undefined;
  };
  const key = header('x-moxie-key');
  const date = header('date');
  const nonce = header('x-hmac-nonce');
  const signature = header('authorization')?.trim().toLowerCase();
  // In Moxie's order, with its reasons (the WSGI names of the headers).
  if (!key) return refuse(reply, 'missing_signature', 'missing header: HTTP_X_MOXIE_KEY');
  if (!date) return refuse(reply, 'missing_signature', 'missing header: HTTP_DATE');
  if (!nonce) return refuse(reply, 'missing_signature', 'missing header: HTTP_X_HMAC_NONCE');
  if (!signature) return refuse(reply, 'missing_signature', 'missing header: HTTP_AUTHORIZATION');
  const secret = Object.hasOwn(users, key) ? users[key] : undefined;
  if (!secret) return refuse(reply, 'unknown_api_key', 'unknown key');
  const algorithm = signature.length === 64 ? 'sha256' : 'sha1';
  const original = sign(secret, originalSignedString(request.method, addressedUrl(request), date, nonce), algorithm);
  const withBody = sign(secret, signedString(request.method, request.url, key, nonce, date, request.rawBody ?? ''), algorithm);
  if (!matches(signature, original) && !matches(signature, withBody)) return refuse(reply, 'invalid_signature', 'unauthorized');
  const sent = parseDateHeader(date);
  if (Number.isNaN(sent) || Math.abs(Date.now() - sent) > windowSeconds * 1000) return refuse(reply, 'stale_date', 'stale date', `The Date header must be within ${windowSeconds} s of now.`);
  if (!(await nonces.claim(`moxie:${key}:${nonce}`, windowSeconds * 2))) return refuse(reply, 'replayed_nonce', 'replayed nonce');
}
