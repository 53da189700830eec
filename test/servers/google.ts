import { createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { verifyJwt } from './jwt.js';
import { LocalHttpsService } from './listen.js';
import type { Pki } from './pki.js';

export interface FcmRequest {
  token: string;
  message: { notification: { title: string; body?: string; image?: string }; data: Record<string, string>; android: { collapse_key: string; ttl: string; priority: string } };
}

export interface GcmRequest {
  registrationIds: string[];
  body: { collapse_key?: string; time_to_live?: number; priority?: string; notification: Record<string, string>; data: Record<string, string> };
}

export type FcmReply = { status: 200 } | { status: 400 | 404 | 429 | 500 | 503; code: string; retryAfter?: number };
/** Per id: sent, sent under a new canonical id, or an error (NotRegistered, InvalidRegistration, Unavailable...). */
export type GcmReply = { ok: true; canonical?: string } | { error: string };

const SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';

/**
 * Local Google push endpoints over HTTPS: an OAuth2 token endpoint for service-account JWTs
 * (RS256, iss = client_email, firebase.messaging scope), FCM HTTP v1 `messages:send` that
 * requires its access token, and the legacy GCM `/fcm/send` with per-id results.
 */
export class LocalGoogle extends LocalHttpsService {
  readonly fcm: FcmRequest[] = [];
  readonly gcm: GcmRequest[] = [];
  fcmReply: (token: string) => FcmReply = () => ({ status: 200 });
  gcmReply: (registrationId: string) => GcmReply = () => ({ ok: true });
  /** Answer every legacy request with this HTTP status instead (e.g. 503: the service is down). */
  gcmStatus: number | null = null;
  /** Sent as Retry-After with `gcmStatus`. */
  gcmRetryAfter: string | null = null;
  tokensIssued = 0;
  private readonly accessTokens = new Set<string>();
  private readonly accountKey: KeyObject;

  constructor(pki: Pki, private readonly account: { projectId: string; clientEmail: string; serverKey: string }) {
    super(pki);
    this.accountKey = createPublicKey(pki.serviceAccountKeyPem);
  }

  protected handle(request: IncomingMessage, response: ServerResponse, raw: Buffer): void {
    const body = raw.toString();
    const json = (status: number, value: unknown, headers: Record<string, string> = {}): void =>
      void response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(value));
    if (request.url === '/token') {
      const form = new URLSearchParams(body);
      try {
        const { claims } = verifyJwt(form.get('assertion') ?? '', this.accountKey);
        if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer' || claims.iss !== this.account.clientEmail || !String(claims.scope).includes(SCOPE)) {
          return json(400, { error: 'invalid_grant' });
        }
      } catch {
        return json(400, { error: 'invalid_grant' });
      }
      const token = randomBytes(16).toString('hex');
      this.accessTokens.add(token);
      this.tokensIssued++;
      return json(200, { access_token: token, expires_in: 3600, token_type: 'Bearer' });
    }
    if (request.url === `/v1/projects/${this.account.projectId}/messages:send`) {
      if (!this.accessTokens.has(String(request.headers.authorization).replace(/^Bearer /, ''))) return json(401, { error: { code: 401, status: 'UNAUTHENTICATED' } });
      const { message } = JSON.parse(body) as { message: FcmRequest['message'] & { token: string } };
      const reply = this.fcmReply(message.token);
      if (reply.status !== 200) {
        return json(reply.status, { error: { code: reply.status, status: reply.code, details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: reply.code }] } },
          reply.retryAfter !== undefined ? { 'retry-after': String(reply.retryAfter) } : {});
      }
      const { token, ...rest } = message;
      this.fcm.push({ token, message: rest });
      return json(200, { name: `projects/${this.account.projectId}/messages/${randomBytes(6).toString('hex')}` });
    }
    if (request.url === '/fcm/send') {
      if (request.headers.authorization !== `key=${this.account.serverKey}`) return json(401, { error: 'Unauthorized' });
      if (this.gcmStatus !== null) return json(this.gcmStatus, { error: 'down' }, this.gcmRetryAfter === null ? {} : { 'retry-after': this.gcmRetryAfter });
      const parsed = JSON.parse(body) as GcmRequest['body'] & { registration_ids: string[] };
      const { registration_ids: registrationIds, ...rest } = parsed;
      if (registrationIds.length > 1000) return json(400, { error: 'too many registration ids' });
      this.gcm.push({ registrationIds, body: rest });
      const results = registrationIds.map((id) => {
        const reply = this.gcmReply(id);
        if ('error' in reply) return { error: reply.error };
        return { message_id: `0:${randomBytes(6).toString('hex')}`, ...(reply.canonical ? { registration_id: reply.canonical } : {}) };
      });
      return json(200, {
        multicast_id: 1, success: results.filter((r) => 'message_id' in r).length, failure: results.filter((r) => 'error' in r).length,
        canonical_ids: results.filter((r) => 'registration_id' in r).length, results,
      });
    }
    json(404, { error: 'not found' });
  }

  /** The service-account JSON a deployment would download, pointing at this server. */
  serviceAccount(pki: Pki): Record<string, string> {
    return {
      type: 'service_account', project_id: this.account.projectId, client_email: this.account.clientEmail,
      private_key: pki.serviceAccountKeyPem, token_uri: `https://localhost:${this.port}/token`,
    };
  }

  get url(): string {
    return `https://localhost:${this.port}`;
  }

}
