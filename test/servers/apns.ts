import { createPublicKey } from 'node:crypto';
import http2 from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { verifyJwt } from './jwt.js';
import { listenLocal } from './listen.js';
import type { Pki } from './pki.js';

export interface ApnsRequest {
  token: string;
  headers: Record<string, string>;
  payload: { aps: { alert: { title: string; body?: string } }; pushwire: Record<string, string> };
  /** How the request authenticated. */
  auth: 'jwt' | 'certificate';
}

export type ApnsReply = { status: 200 } | { status: 400 | 403 | 410 | 429 | 500 | 503; reason: string };

/**
 * A local APNs: HTTP/2 over TLS, `POST /3/device/<token>`. Checks the provider JWT (ES256,
 * kid, iss = team id) or a client certificate from the test CA, the apns-* headers, and
 * answers as `reply(token)` says.
 */
export class LocalApns {
  readonly requests: ApnsRequest[] = [];
  reply: (token: string) => ApnsReply = () => ({ status: 200 });
  private readonly server: http2.Http2SecureServer;
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  port = 0;

  constructor(pki: Pki, private readonly expected: { keyId: string; teamId: string; topic: string }) {
    const signingKey = createPublicKey(pki.apnsKeyPem);
    this.server = http2.createSecureServer({ key: pki.serverKeyPem, cert: pki.serverCertPem, ca: pki.caPem, requestCert: true, rejectUnauthorized: false });
    this.server.on('session', (session) => {
      this.sessions.add(session);
      session.on('close', () => this.sessions.delete(session));
    });
    this.server.on('stream', (stream, headers) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const answer = (status: number, body?: object) => {
          stream.respond({ ':status': status, 'apns-id': '00000000-0000-0000-0000-000000000000', ...(body ? { 'content-type': 'application/json' } : {}) });
          stream.end(body ? JSON.stringify(body) : undefined);
        };
        const path = String(headers[':path']);
        const match = /^\/3\/device\/([0-9a-f]+)$/.exec(path);
        if (headers[':method'] !== 'POST' || !match) return answer(404, { reason: 'BadPath' });
        let auth: ApnsRequest['auth'];
        const authorization = headers.authorization;
        if (authorization) {
          try {
            const { header, claims } = verifyJwt(String(authorization).replace(/^bearer /i, ''), signingKey);
            if (header.kid !== this.expected.keyId || claims.iss !== this.expected.teamId) return answer(403, { reason: 'InvalidProviderToken' });
          } catch {
            return answer(403, { reason: 'InvalidProviderToken' });
          }
          auth = 'jwt';
        } else if ((stream.session?.socket as TLSSocket | undefined)?.authorized) auth = 'certificate';
        else return answer(403, { reason: 'MissingProviderToken' });
        if (headers['apns-topic'] !== this.expected.topic) return answer(400, { reason: 'DeviceTokenNotForTopic' });
        if (!['alert', 'background'].includes(String(headers['apns-push-type']))) return answer(400, { reason: 'InvalidPushType' });
        const body = Buffer.concat(chunks);
        if (body.length > 4096) return answer(413, { reason: 'PayloadTooLarge' });
        const apnsHeaders = Object.fromEntries(Object.entries(headers).filter(([name]) => name.startsWith('apns-')).map(([name, value]) => [name, String(value)]));
        const reply = this.reply(match[1]);
        if (reply.status !== 200) return answer(reply.status, { reason: reply.reason, ...(reply.status === 410 ? { timestamp: Date.now() } : {}) });
        this.requests.push({ token: match[1], headers: apnsHeaders, payload: JSON.parse(body.toString()), auth });
        answer(200);
      });
    });
  }

  async start(): Promise<this> {
    this.port = await listenLocal(this.server);
    return this;
  }

  get address(): string {
    return `localhost:${this.port}`;
  }

  close(): Promise<void> {
    for (const session of this.sessions) session.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
