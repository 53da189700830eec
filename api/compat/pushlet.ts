import { randomUUID } from 'node:crypto';
import multipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import { PushwireError } from '../../core/errors.js';
import type { ApiContext } from '../context.js';
import { bodyCheckedByHandler, integer, object, string } from '../schemas.js';
import { apnsCertificate } from './apns-certificate.js';
import { basicAuth } from './basic-auth.js';

type Fields = Record<string, string | Buffer | undefined>;

const text = (value: string | Buffer | undefined): string | undefined =>
  value === undefined ? undefined : Buffer.isBuffer(value) ? value.toString('utf8') : value;
const bytes = (value: string | Buffer | undefined): Buffer | undefined =>
  value === undefined ? undefined : Buffer.isBuffer(value) ? value : Buffer.from(value, 'base64');

/** Pushlet's 4-byte `identifier`, as an APNS collapse id. */
const identifier = (value: string | undefined) => (value ? { collapseId: value } : {});

/**
 * The Pushlet API (register an APNS application with its certificate, send to one device
 * through APNS or GCM, read the feedback), with Pushlet's routes, fields, error codes and
 * answers. Unlike Pushlet, applications are stored: they survive a restart, and their
 * certificates are never returned.
 */
export async function pushletApi(app: FastifyInstance, { config, applications, devices, providers }: ApiContext): Promise<void> {
  await app.register(multipart, { attachFieldsToBody: 'keyValues', limits: { fileSize: 64 * 1024, files: 2 } });
  app.addHook('onRequest', basicAuth(config.pushletUser, config.pushletPassword, 'pushlet'));
  // Fields arrive as a multipart or urlencoded form (or JSON), as Pushlet's clients send them; the handlers read them.
  const documented = (summary: string, fields: Record<string, unknown>, response: unknown) => ({
    config: bodyCheckedByHandler({ type: 'object', properties: fields }, { optional: true }),
    schema: {
      tags: ['pushlet'], summary, security: [{ basic: [] }], consumes: ['multipart/form-data', 'application/x-www-form-urlencoded', 'application/json'],
      response: { 200: response },
    },
  });

  app.post('/register_application', documented('Registers an APNS application with its certificate', {
    application_id: string, apns_p12: { ...string, description: 'A PKCS#12 file, or base64.' }, apns_p12_pass: string, apns_pem: string,
    apns_topic: string, apns_mode: { enum: ['production', 'development'] },
  }, object({ application_id: string })), async (request) => {
    const body = (request.body ?? {}) as Fields;
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

  app.post('/send_notification', documented('Sends to one device through APNS or GCM', {
    type: { enum: ['apns', 'gcm'] }, application_id: string, gcm_api_key: string, device_token: string, data: { ...string, description: 'A JSON object.' },
    alert: string, badge: string, sound: string, identifier: string,
  }, {
    oneOf: [
      object({ response: { const: 'ok' } }, 'APNS'),
      object({ multicast_id: integer, success: integer, failure: integer, canonical_ids: integer, results: { type: 'array', items: { type: 'object' } } }, 'GCM\'s answer'),
    ],
  }), async (request) => {
    const body = (request.body ?? {}) as Fields;
    const type = text(body.type);
    const applicationId = text(body.application_id);
    const gcmKey = text(body.gcm_api_key);
    const token = text(body.device_token);
    if (type !== 'apns' && type !== 'gcm') throw new PushwireError('invalid_type');
    if (!applicationId && !gcmKey) throw new PushwireError('missing_identifier');
    if (!token) throw new PushwireError('device_token_required');
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
      const [result] = await provider.sendRaw({ payload: { ...data, aps }, expiry: 0, priority: 10, pushType: 'alert', ...identifier(text(body.identifier)) }, [token]);
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
    const id = text(((request.body ?? {}) as Fields).application_id);
    if (!id) throw new PushwireError('missing_application_id');
    if (!(await applications.get(id))) throw new PushwireError('application_not_found');
    const expired = await devices.expired(id, 10_000);
    return { response: expired.filter((e) => e.platform === 'apns').map((e) => ({ device_token: e.token, timestamp: e.expiredAt.replace(/\.\d{3}Z$/, 'Z') })) };
  });
}
