import { createECDH, createPublicKey, randomBytes, type ECDH } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as ece from 'http_ece';
import { verifyJwt } from './jwt.js';
import { LocalHttpsService } from './listen.js';
import type { Pki } from './pki.js';

/** A browser's side of one subscription: what it would send us, and its private key to decrypt. */
export interface Subscriber {
  id: string;
  subscription: { endpoint: string; expirationTime: null; keys: { p256dh: string; auth: string } };
  ecdh: ECDH;
  authSecret: Buffer;
}

export interface WebPushRequest {
  id: string;
  /** The decrypted payload (RFC 8291): proof that it arrived intact. */
  payload: Record<string, string>;
  ttl: string | undefined;
  topic: string | undefined;
  urgency: string | undefined;
  vapidSubject: unknown;
}

export type WebPushReply = { status: 201 } | { status: 400 | 404 | 410 | 413 | 429 | 500 | 503; retryAfter?: number };

/** The public key of a VAPID `k=` parameter (raw uncompressed P-256 point, base64url). */
function vapidKey(k: string) {
  const point = Buffer.from(k, 'base64url');
  return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33, 65).toString('base64url') }, format: 'jwk' });
}

/**
 * A local RFC 8030 push service over HTTPS (web-push refuses plain http). Verifies the
 * VAPID JWT (RFC 8292: ES256, aud = this origin, exp, sub) against `k=`, and decrypts the
 * aes128gcm body (RFC 8188/8291) with the subscriber's private key.
 */
export class LocalWebPush extends LocalHttpsService {
  readonly requests: WebPushRequest[] = [];
  reply: (id: string) => WebPushReply = () => ({ status: 201 });
  /** Hold every request this long before handling it (a slow push service). */
  delayMs = 0;
  /** Requests received, handled or not yet. */
  arrived = 0;
  private readonly subscribers = new Map<string, Subscriber>();

  constructor(pki: Pki) {
    super(pki);
  }

  protected handle(request: IncomingMessage, response: ServerResponse, body: Buffer): void {
    this.arrived++;
    setTimeout(() => this.answer(request, response, body), this.delayMs);
  }

  private answer(request: IncomingMessage, response: ServerResponse, body: Buffer): void {
    const answer = (status: number, headers: Record<string, string> = {}): void => void response.writeHead(status, headers).end();
    const id = /^\/push\/([\w-]+)$/.exec(request.url ?? '')?.[1];
    const subscriber = id ? this.subscribers.get(id) : undefined;
    if (request.method !== 'POST' || !subscriber) return answer(404);
    const vapid = /^vapid t=([^,]+),\s*k=(.+)$/.exec(String(request.headers.authorization ?? ''));
    if (!vapid) return answer(401);
    let subject: unknown;
    try {
      const { claims } = verifyJwt(vapid[1], vapidKey(vapid[2]));
      if (claims.aud !== `https://localhost:${this.port}` || Number(claims.exp) * 1000 < Date.now() || !claims.sub) return answer(403);
      subject = claims.sub;
    } catch {
      return answer(403);
    }
    if (request.headers['content-encoding'] !== 'aes128gcm' || !request.headers.ttl) return answer(400);
    if (body.length > 4096) return answer(413);
    const reply = this.reply(subscriber.id);
    if (reply.status !== 201) return answer(reply.status, 'retryAfter' in reply && reply.retryAfter !== undefined ? { 'retry-after': String(reply.retryAfter) } : {});
    const plaintext = ece.decrypt(body, { version: 'aes128gcm', privateKey: subscriber.ecdh, authSecret: subscriber.authSecret });
    this.requests.push({
      id: subscriber.id, payload: JSON.parse(plaintext.toString()), ttl: request.headers.ttl as string | undefined,
      topic: request.headers.topic as string | undefined, urgency: request.headers.urgency as string | undefined, vapidSubject: subject,
    });
    answer(201, { location: `https://localhost:${this.port}/message/${randomBytes(4).toString('hex')}` });
  }

  /** A new browser subscription on this service. */
  subscribe(): Subscriber {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const authSecret = randomBytes(16);
    const id = randomBytes(8).toString('hex');
    const subscriber: Subscriber = {
      id, ecdh, authSecret,
      subscription: { endpoint: `https://localhost:${this.port}/push/${id}`, expirationTime: null, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: authSecret.toString('base64url') } },
    };
    this.subscribers.set(id, subscriber);
    return subscriber;
  }

}
