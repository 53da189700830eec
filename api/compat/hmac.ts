import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { PushwireError } from '../../core/errors.js';
import type { NonceCache } from '../../core/presence/presence.js';

/**
 * Moxie request signing. The signed string is, joined with "\n":
 *
 *   METHOD, path and query as sent, X-Moxie-Key, X-HMAC-Nonce, Date header, raw body ("" if none)
 *
 * and Authorization is the lowercase hex HMAC of it with the key's shared secret: SHA-1 (40 hex
 * digits, as in Moxie's examples) or SHA-256 (64). A Date further than `windowSeconds` from now
 * is refused, and each (key, nonce) is accepted once within the window.
 */
export function signedString(method: string, path: string, key: string, nonce: string, date: string, body: string): string {
  return [method.toUpperCase(), path, key, nonce, date, body].join('\n');
}

export function sign(secret: string, text: string, algorithm: 'sha1' | 'sha256' = 'sha1'): string {
  return createHmac(algorithm, secret).update(text).digest('hex');
}

export async function verifyMoxieRequest(request: FastifyRequest & { rawBody?: string }, users: Record<string, string>, nonces: NonceCache, windowSeconds: number): Promise<void> {
  const header = (name: string) => {
    const value = request.headers[name];
    return typeof value === 'string' ? value : undefined;
  };
  const key = header('x-moxie-key');
  const nonce = header('x-hmac-nonce');
  const date = header('date');
  const signature = header('authorization')?.trim().toLowerCase();
  if (!key || !nonce || !date || !signature) throw new PushwireError('missing_signature');
  const secret = Object.hasOwn(users, key) ? users[key] : undefined;
  if (!secret) throw new PushwireError('unknown_api_key');
  const expected = sign(secret, signedString(request.method, request.url, key, nonce, date, request.rawBody ?? ''), signature.length === 64 ? 'sha256' : 'sha1');
  if (signature.length !== expected.length || !timingSafeEqual(Buffer.from(signature), Buffer.from(expected))) throw new PushwireError('invalid_signature');
  const sent = Date.parse(date);
  if (Number.isNaN(sent) || Math.abs(Date.now() - sent) > windowSeconds * 1000) throw new PushwireError('stale_date', `The Date header must be within ${windowSeconds} s of now.`);
  if (!(await nonces.claim(`moxie:${key}:${nonce}`, windowSeconds * 2))) throw new PushwireError('replayed_nonce');
}
