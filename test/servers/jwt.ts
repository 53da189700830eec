import { createPublicKey, verify, type KeyObject } from 'node:crypto';

/** Verifies a compact JWS (ES256 or RS256) and returns its header and claims, or throws. */
export function verifyJwt(token: string, key: KeyObject | string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const [headerPart, claimsPart, signaturePart] = token.split('.');
  if (!signaturePart) throw new Error('malformed JWT');
  const header = JSON.parse(Buffer.from(headerPart, 'base64url').toString()) as Record<string, unknown>;
  const claims = JSON.parse(Buffer.from(claimsPart, 'base64url').toString()) as Record<string, unknown>;
  const publicKey = typeof key === 'string' ? createPublicKey(key) : key;
  const data = Buffer.from(`${headerPart}.${claimsPart}`);
  const signature = Buffer.from(signaturePart, 'base64url');
  const ok = header.alg === 'ES256'
    ? verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)
    : header.alg === 'RS256' ? verify('sha256', data, publicKey, signature) : false;
  if (!ok) throw new Error(`bad ${String(header.alg)} signature`);
  return { header, claims };
}
