import type { FastifyInstance } from 'fastify';
import { PushwireError } from '../../core/errors.js';
import type { TokenResult } from '../../providers/apns.js';
import { shortenToFit } from '../../providers/payload.js';
import { DEFAULT_APP } from '../../providers/registry.js';
import { requireAdmin } from '../auth.js';
import type { ApiContext } from '../context.js';
import { boolean, integer, nullable, object, string } from '../schemas.js';

const MAX_IDS = 10_000;
const appId = { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' } as const;
const stringList = { type: 'array', items: { type: 'string', maxLength: 256 }, maxItems: 32 } as const;

/** APNS HTTP/2 reasons under pushjack's exception names (its APNS error codes date from the binary protocol). */
const APNS_ERRORS: Record<string, [string, number, string]> = {
  BadDeviceToken: ['APNSInvalidTokenError', 8, 'Invalid token'],
  MissingDeviceToken: ['APNSMissingTokenError', 2, 'Missing token'],
  MissingTopic: ['APNSMissingTopicError', 3, 'Missing topic'],
  BadTopic: ['APNSInvalidTopicSizeError', 6, 'Invalid topic'],
  TopicDisallowed: ['APNSInvalidTopicSizeError', 6, 'Invalid topic'],
  DeviceTokenNotForTopic: ['APNSInvalidTokenError', 8, 'Invalid token'],
  PayloadEmpty: ['APNSMissingPayloadError', 4, 'Missing payload'],
  PayloadTooLarge: ['APNSInvalidPayloadSizeError', 7, 'Invalid payload size'],
  Shutdown: ['APNSShutdownError', 10, 'Shutdown'],
  ServiceUnavailable: ['APNSShutdownError', 10, 'Shutdown'],
  InternalServerError: ['APNSProcessingError', 1, 'Processing error'],
  TooManyRequests: ['APNSProcessingError', 1, 'Processing error'],
};

/** GCM error strings are pushjack's codes already; these are its exception names. */
const GCM_ERRORS: Record<string, [string, string]> = {
  MissingRegistration: ['GCMMissingRegistrationError', 'Missing registration ID'],
  InvalidRegistration: ['GCMInvalidRegistrationError', 'Invalid registration ID'],
  NotRegistered: ['GCMUnregisteredDeviceError', 'Device not registered'],
  InvalidPackageName: ['GCMInvalidPackageNameError', 'Invalid package name'],
  MismatchSenderId: ['GCMMismatchedSenderError', 'Mismatched sender ID'],
  MessageTooBig: ['GCMMessageTooBigError', 'Message too big'],
  InvalidDataKey: ['GCMInvalidDataKeyError', 'Invalid data key'],
  InvalidTtl: ['GCMInvalidTimeToLiveError', 'Invalid time to live'],
  Unavailable: ['GCMTimeoutError', 'Timeout'],
  InternalServerError: ['GCMInternalServerError', 'Internal server error'],
  DeviceMessageRateExceeded: ['GCMDeviceMessageRateExceededError', 'Message rate exceeded'],
};

interface ApnsBody {
  ids: string[];
  message?: string | Record<string, unknown> | null;
  application_id?: string;
  expiration?: number;
  low_priority?: boolean;
  max_payload_length?: number;
  badge?: number;
  sound?: string;
  category?: string;
  content_available?: boolean;
  title?: string;
  title_loc_key?: string;
  title_loc_args?: string[];
  action_loc_key?: string;
  loc_key?: string;
  loc_args?: string[];
  launch_image?: string;
  mutable_content?: boolean;
  thread_id?: string;
  extra?: Record<string, unknown>;
}

interface GcmBody {
  ids: string[];
  message: string | Record<string, unknown>;
  api_key?: string;
  application_id?: string;
  notification?: { title?: string; body?: string; icon?: string };
  collapse_key?: string;
  delay_while_idle?: boolean;
  time_to_live?: number;
  low_priority?: boolean;
  restricted_package_name?: string;
  dry_run?: boolean;
}

/** The APS dictionary pushjack builds from a message and its keyword options. */
function aps(body: ApnsBody, alertText: string | null): Record<string, unknown> {
  const alert: Record<string, unknown> = {};
  if (alertText !== null) alert.body = alertText;
  for (const [key, name] of [['title', 'title'], ['title_loc_key', 'title-loc-key'], ['title_loc_args', 'title-loc-args'], ['action_loc_key', 'action-loc-key'],
    ['loc_key', 'loc-key'], ['loc_args', 'loc-args'], ['launch_image', 'launch-image']] as const) {
    if (body[key] !== undefined) alert[name] = body[key];
  }
  const result: Record<string, unknown> = {};
  if (Object.keys(alert).length) result.alert = Object.keys(alert).length === 1 && 'body' in alert ? alert.body : alert;
  if (body.badge !== undefined) result.badge = body.badge;
  if (body.sound !== undefined) result.sound = body.sound;
  if (body.category !== undefined) result.category = body.category;
  if (body.content_available) result['content-available'] = 1;
  if (body.mutable_content) result['mutable-content'] = 1;
  if (body.thread_id !== undefined) result['thread-id'] = body.thread_id;
  return result;
}

/**
 * pushjack-style bulk sending: many device tokens, one message, pushjack's options, and its
 * response objects (APNSResponse, GCMResponse) as JSON. Sent at once, not through the outbox:
 * the caller wants the per-token results in the answer. Needs the admin token.
 */
export async function pushjackApi(app: FastifyInstance, { config, devices, providers }: ApiContext): Promise<void> {
  app.addHook('onRequest', async (request) => requireAdmin(request, config.adminToken));
  const documented = (summary: string, response: Record<string, unknown>) => ({ tags: ['pushjack'], summary, security: [{ admin: [] }], response: { 200: response } });
  const strings = { type: 'array', items: string } as const;

  app.post('/apns/send', {
    schema: {
      ...documented('One APNS message to many device tokens (APNSResponse)', object({
        tokens: strings, message: { type: 'object', description: 'The payload sent.' }, successes: strings, failures: strings,
        errors: { type: 'array', items: object({ token: string, code: string, status: integer, reason: nullable('string'), description: string }) },
        token_errors: { type: 'object', additionalProperties: string }, expired: { type: 'array', items: object({ token: string, timestamp: integer }) },
        trimmed: { ...boolean, description: 'The text was shortened to fit max_payload_length.' },
      })),
      body: {
        type: 'object',
        required: ['ids'],
        properties: {
          ids: { type: 'array', minItems: 1, maxItems: MAX_IDS, items: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' } },
          message: { type: ['string', 'object', 'null'] },
          application_id: appId,
          expiration: { type: 'integer', minimum: 0, maximum: 365 * 86400 },
          low_priority: { type: 'boolean' },
          batch_size: { type: 'integer', minimum: 1, maximum: 10_000 },
          error_timeout: { type: 'number', minimum: 0 },
          max_payload_length: { type: 'integer', minimum: 0, maximum: 4096 },
          badge: { type: 'integer', minimum: 0, maximum: 2_147_483_647 },
          sound: { type: 'string', maxLength: 256 },
          category: { type: 'string', maxLength: 256 },
          content_available: { type: 'boolean' },
          title: { type: 'string', maxLength: 2048 },
          title_loc_key: { type: 'string', maxLength: 256 },
          title_loc_args: stringList,
          action_loc_key: { type: 'string', maxLength: 256 },
          loc_key: { type: 'string', maxLength: 256 },
          loc_args: stringList,
          launch_image: { type: 'string', maxLength: 256 },
          mutable_content: { type: 'boolean' },
          thread_id: { type: 'string', maxLength: 256 },
          extra: { type: 'object', maxProperties: 64 },
        },
        additionalProperties: false,
      },
    },
  }, async (request) => {
    const body = request.body as ApnsBody;
    const application = body.application_id ?? DEFAULT_APP;
    const provider = await providers.apns(application);
    if (!provider) throw new PushwireError('application_not_found', `application "${application}" has no APNS credentials`);
    const limit = body.max_payload_length || 4096;
    const build = (text: string | null) => JSON.stringify({
      ...(body.extra ?? {}),
      aps: typeof body.message === 'object' && body.message !== null ? body.message : aps(body, text),
    });
    const text = typeof body.message === 'string' ? body.message : null;
    const fitted = text === null ? null : shortenToFit(text, limit, build);
    const payload = JSON.parse(build(fitted ?? (text === null ? null : ''))) as Record<string, unknown>;
    const ids = body.ids.map((id) => id.toLowerCase());
    const results = await provider.sendRaw({
      payload, expiry: Math.floor(Date.now() / 1000) + (body.expiration ?? 2_592_000), priority: body.low_priority ? 5 : 10,
      pushType: body.content_available && !body.message ? 'background' : 'alert',
    }, ids);
    const byToken = new Map<string, TokenResult>(results.map((result) => [result.token, result]));
    const expired = results.filter((result) => result.kind === 'dead' && (result.reason === 'Unregistered' || result.statusCode === 410));
    await devices.recordDead(application, 'apns', expired.map((result) => ({ token: result.token, reason: result.reason ?? 'Unregistered' })));
    const errors = results.filter((result) => result.kind !== 'sent').map((result) => {
      const expiredToken = expired.includes(result);
      const [exception, code, description] = expiredToken ? ['expired', 0, 'Unregistered: the token is no longer active'] : APNS_ERRORS[result.reason ?? ''] ?? ['APNSUnknownError', 255, result.reason ?? 'Unknown'];
      return { token: result.token, code: expiredToken ? 'expired' : exception, status: code, reason: result.reason ?? null, description };
    });
    return {
      tokens: ids,
      message: payload,
      successes: ids.filter((id) => byToken.get(id)?.kind === 'sent'),
      failures: ids.filter((id) => byToken.get(id)?.kind !== 'sent'),
      errors,
      token_errors: Object.fromEntries(errors.map((error) => [error.token, error.code])),
      expired: expired.map((result) => ({ token: result.token, timestamp: Math.floor(Date.now() / 1000) })),
      trimmed: fitted !== null && fitted !== text,
    };
  });

  /** Like APNSClient.get_expired_tokens(): tokens APNS declared dead, with when. */
  app.get('/apns/expired_tokens', {
    schema: {
      ...documented('Tokens APNS declared dead (get_expired_tokens)', object({ expired: { type: 'array', items: object({ token: string, timestamp: integer }) } })),
      querystring: { type: 'object', properties: { application_id: appId } },
    },
  }, async (request) => {
    const application = (request.query as { application_id?: string }).application_id ?? DEFAULT_APP;
    const expired = await devices.expired(application, 10_000);
    return { expired: expired.filter((e) => e.platform === 'apns').map((e) => ({ token: e.token, timestamp: Math.floor(Date.parse(e.expiredAt) / 1000) })) };
  });

  app.post('/gcm/send', {
    schema: {
      ...documented('One GCM message to many registration ids (GCMResponse)', object({
        registration_ids: strings, successes: strings, failures: strings,
        errors: { type: 'array', items: object({ identifier: string, code: string, exception: string, description: string }) },
        canonical_ids: { type: 'array', items: object({ old_id: string, new_id: string }) },
      })),
      body: {
        type: 'object',
        required: ['ids', 'message'],
        properties: {
          ids: { type: 'array', minItems: 1, maxItems: MAX_IDS, items: { type: 'string', minLength: 1, maxLength: 4096 } },
          message: { type: ['string', 'object'] },
          api_key: { type: 'string', minLength: 1 },
          application_id: appId,
          notification: { type: 'object', properties: { title: { type: 'string' }, body: { type: 'string' }, icon: { type: 'string' } } },
          collapse_key: { type: 'string', maxLength: 256 },
          delay_while_idle: { type: 'boolean' },
          time_to_live: { type: 'integer', minimum: 0, maximum: 2_419_200 },
          low_priority: { type: 'boolean' },
          restricted_package_name: { type: 'string', maxLength: 256 },
          dry_run: { type: 'boolean' },
        },
        additionalProperties: false,
      },
    },
  }, async (request) => {
    const body = request.body as GcmBody;
    const provider = await providers.gcm(body.application_id ?? DEFAULT_APP, body.api_key);
    if (!provider) throw new PushwireError('application_not_found', 'no GCM api_key given and the application has none');
    const message = typeof body.message === 'string' ? { message: body.message } : body.message;
    const { notification: fromMessage, ...data } = message as { notification?: GcmBody['notification'] };
    const notification = body.notification ?? fromMessage;
    const results = await provider.sendRaw({
      data: data as Record<string, string>,
      ...(notification ? { notification: notification as never } : {}),
      ...(body.collapse_key ? { collapseKey: body.collapse_key } : {}),
      ...(body.delay_while_idle !== undefined ? { delayWhileIdle: body.delay_while_idle } : {}),
      ...(body.time_to_live !== undefined ? { timeToLive: body.time_to_live } : {}),
      priority: body.low_priority ? 'normal' : 'high',
      ...(body.restricted_package_name ? { restrictedPackageName: body.restricted_package_name } : {}),
      ...(body.dry_run ? { dryRun: true } : {}),
    }, body.ids);
    if (results.some((result) => result.statusCode === 401)) throw new PushwireError('invalid_gcm_credentials');
    const failed = results.filter((result) => result.kind !== 'sent');
    await devices.recordDead(body.application_id ?? DEFAULT_APP, 'gcm', failed.filter((r) => r.kind === 'dead').map((r) => ({ token: r.token, reason: r.reason! })));
    return {
      registration_ids: body.ids,
      successes: results.filter((result) => result.kind === 'sent').map((result) => result.token),
      failures: failed.map((result) => result.token),
      errors: failed.map((result) => {
        const [exception, description] = GCM_ERRORS[result.reason ?? ''] ?? ['GCMServerError', result.reason ?? 'Unknown'];
        return { identifier: result.token, code: result.reason ?? 'Unknown', exception, description };
      }),
      canonical_ids: results.filter((result) => result.canonicalToken).map((result) => ({ old_id: result.token, new_id: result.canonicalToken })),
    };
  });
}
