import { randomUUID } from 'node:crypto';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PushwireError } from '../../core/errors.js';
import type { ApiContext } from '../context.js';
import { bodyCheckedByHandler, integer, object, ref, string } from '../schemas.js';
import { apnsCertificate } from './apns-certificate.js';
import { basicAuth } from './basic-auth.js';
import { installPushletErrors } from './pushlet-errors.js';

type Fields = Record<string, string | Buffer | undefined>;

/** Pushlet read its parameters as Sinatra does: the query string and the form together, the form winning. */
const fieldsOf = (request: FastifyRequest): Fields => {
  const body = request.body && typeof request.body === 'object' && !Array.isArray(request.body) ? request.body as Fields : {};
  return { ...(request.query as Record<string, string>), ...body };
};

const text = (value: string | Buffer | undefined): string | undefined =>
  value === undefined ? undefined : Buffer.isBuffer(value) ? value.toString('utf8') : value;
const bytes = (value: string | Buffer | undefined): Buffer | undefined =>
  value === undefined ? undefined : Buffer.isBuffer(value) ? value : Buffer.from(value, 'base64');

/**
 * The Pushlet API (register an APNS application with its certificate, send to one device
 * through APNS or GCM, read the feedback), with Pushlet's routes, fields, error codes and
 * answers. Unlike Pushlet, applications are stored: they survive a restart, and their
 * certificates are never returned.
 */
export async function pushletApi(app: FastifyInstance, { config, applications, devices, providers }: ApiContext): Promise<void> {
  await app.register(multipart, { attachFieldsToBody: 'keyValues', limits: { fileSize: 64 * 1024, files: 2 } });
  installPushletErrors(app);
  app.addHook('onRequest', basicAuth(config.pushletUser, config.pushletPassword, 'pushlet'));
  // Fields arrive as a multipart or urlencoded form (or JSON), as Pushlet's clients send them; the handlers read them.
  const documented = (summary: string, fields: Record<string, unknown>, response: unknown) => ({
    config: bodyCheckedByHandler({ type: 'object', properties: fields }, { optional: true }),
    schema: {
      tags: ['pushlet'], summary, security: [{ basic: [] }], consumes: ['multipart/form-data', 'application/x-www-form-urlencoded', 'application/json'],
      description: 'Fields may also come in the query string (the body wins). Errors are answered as Pushlet did: HTTP 200 and `{"error": {"type", "message"}}`.',
      response: { 200: { anyOf: [response, ref('PushletError')] }, '4XX': ref('PushletError'), '5XX': ref('PushletError') },
    },
  });

  app.post('/register_application', documented('Registers an APNS application with its certificate', {
    application_id: string, apns_p12: { ...string, description: 'A PKCS#12 file, or base64.' }, apns_p12_pass: string, apns_pem: string,
    apns_topic: string, apns_mode: { ...string, description: '`development`: the sandbox; anything else, or nothing, production (as Pushlet).' },
  }, object({ application_id: string })), async (request) => {
    const body = fieldsOf(request);
    const id = text(body.application_id) || randomUUID();
    const apns = apnsCertificate({
      p12: bytes(body.apns_p12),
      pem: text(body.apns_pem),
      passphrase: text(body.apns_p12_pass),
      topic: text(body.apns_topic),
      production: text(body.apns_mode) !== 'development',
    });
    await applications.put(id, { ...((await applications.get(id)) ?? {}), apns });
    await providers.forget(id);
    return { application_id: id };
  });

  /**
   * `type` names the service; Pushlet's own examples leave it out, and the identifier given says
   * it: a GCM key is GCM's, an application is the service it has credentials for (APNS first).
   */
  const serviceOf = async (type: string | undefined, applicationId: string | undefined, gcmKey: string | undefined): Promise<'apns' | 'gcm'> => {
    if (type === 'apns' || type === 'gcm') return type;
    if (type) throw new PushwireError('invalid_type');
    if (gcmKey) return 'gcm';
    const credentials = await applications.get(applicationId!);
    if (credentials?.apns) return 'apns';
    if (credentials?.gcm) return 'gcm';
    throw new PushwireError('application_not_found');
  };

  app.post('/send_notification', documented('Sends to one device through APNS or GCM', {
    type: { enum: ['apns', 'gcm'], description: 'Left out: the service of `gcm_api_key` (GCM) or of the application (APNS if it has a certificate, else GCM).' }, application_id: string, gcm_api_key: string, device_token: string, data: { ...string, description: 'A JSON object.' },
    alert: string, badge: string, sound: string, identifier: string,
  }, {
    oneOf: [
      object({ response: { const: 'ok' } }, 'APNS'),
      object({ multicast_id: integer, success: integer, failure: integer, canonical_ids: integer, results: { type: 'array', items: { type: 'object' } } }, 'GCM\'s answer'),
    ],
  }), async (request) => {
    const body = fieldsOf(request);
    const applicationId = text(body.application_id);
    const gcmKey = text(body.gcm_api_key);
    const token = text(body.device_token);
    if (!applicationId && !gcmKey) throw new PushwireError('missing_identifier');
    if (!token) throw new PushwireError('device_token_required');
    const type = await serviceOf(text(body.type), applicationId, gcmKey);
    let data: Record<string, unknown> = {};
    const rawData = text(body.data);
    if (rawData !== undefined && rawData !== '') {
      try {
        data = JSON.parse(rawData) as Record<string, unknown>;
      } catch (error) {
        throw new PushwireError('invalid_data_json', `data could not be converted to json: ${(error as Error).message}`);
      }
      if (!data || typeof data !== 'object' || Array.isArray(data)) throw new PushwireError('invalid_data_json', 'data could not be converted to json: not an object');
    }
    if (type === 'apns') {
      if (!applicationId) throw new PushwireError('missing_application_id');
      const provider = await providers.apns(applicationId);
      if (!provider) throw new PushwireError('application_not_found');
      const badge = text(body.badge);
      const aps = { ...(text(body.alert) ? { alert: text(body.alert) } : {}), ...(badge ? { badge: Number(badge) } : {}), ...(text(body.sound) ? { sound: text(body.sound) } : {}) };
      // `identifier` numbered a notification in APNS's binary protocol, to match Apple's error replies; HTTP/2 answers each send itself.
      const [result] = await provider.sendRaw({ payload: { ...data, aps }, expiry: 0, priority: 10, pushType: 'alert' }, [token]);
      // Like Pushlet, a dead token is not an error of this call: it shows up in /application_feedback.
      if (result.kind === 'dead') await devices.recordDead(applicationId, 'apns', [{ token, reason: result.reason ?? 'Unregistered' }]);
      else if (result.kind !== 'sent') throw new PushwireError('provider_error', `APNS: ${result.reason ?? 'failed'}`);
      return { response: 'ok' };
    }
    const provider = await providers.gcm(applicationId!, gcmKey || undefined);
    if (!provider) throw new PushwireError('application_not_found');
    const [result] = await provider.sendRaw({ data: data as Record<string, string> }, [token]);
    if (result.statusCode === 401) throw new PushwireError('invalid_gcm_credentials');
    if (result.kind === 'retry' && result.statusCode !== 200) throw new PushwireError('provider_error', `GCM: ${result.reason}`);
    if (result.kind === 'dead') await devices.recordDead(applicationId ?? 'gcm-key', 'gcm', [{ token, reason: result.reason! }]);
    const entry = result.messageId ? { message_id: result.messageId, ...(result.canonicalToken ? { registration_id: result.canonicalToken } : {}) } : { error: result.reason };
    return {
      multicast_id: Date.now(), success: result.messageId ? 1 : 0, failure: result.messageId ? 0 : 1,
      canonical_ids: result.canonicalToken ? 1 : 0, results: [entry],
    };
  });

  app.post('/application_feedback', documented('Device tokens APNS declared dead', { application_id: string },
    object({ response: { type: 'array', items: object({ device_token: string, timestamp: string }) } })), async (request) => {
    const id = text(fieldsOf(request).application_id);
    if (!id) throw new PushwireError('missing_application_id');
    if (!(await applications.get(id))) throw new PushwireError('application_not_found');
    const expired = await devices.expired(id, 10_000);
    return { response: expired.filter((e) => e.platform === 'apns').map((e) => ({ device_token: e.token, timestamp: e.expiredAt.replace(/\.\d{3}Z$/, 'Z') })) };
  });
}
