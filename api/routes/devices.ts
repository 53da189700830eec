import type { FastifyInstance } from 'fastify';
import { PushwireError } from '../../core/errors.js';
import { decodeKey } from '../../core/ids.js';
import type { Device, NewDevice, Platform } from '../../core/store/devices.js';
import { PushServiceAddresses } from '../../providers/push-service-address.js';
import { DEFAULT_APP, defaultVapidKeys } from '../../providers/registry.js';
import { requireAdmin, requireUser } from '../auth.js';
import type { ApiContext } from '../context.js';
import { boolean, integer, nullable, object, string } from '../schemas.js';
import { asUser } from './queues.js';

const deviceView = object({
  id: integer, app: string, platform: { type: 'string', enum: ['apns', 'fcm', 'gcm', 'webpush'] }, token: string, createdAt: string,
  expiredAt: { ...nullable('string'), description: 'When its push service declared it dead.' }, expiredReason: nullable('string'),
});
const expiredToken = object({ platform: string, token: string, expiredAt: string, reason: string });
const deviceId = { type: 'object', properties: { id: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } } } as const;

const appId = { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' } as const;
const base64url = (min: number, max: number) => ({ type: 'string', pattern: `^[A-Za-z0-9_-]{${min},${max}}={0,2}$` }) as const;

/** The browser's PushSubscription JSON, as the Web Push subscription seed takes it. */
export const pushSubscriptionSchema = {
  type: 'object',
  required: ['endpoint', 'keys'],
  properties: {
    endpoint: { type: 'string', pattern: '^https://', maxLength: 2048 },
    expirationTime: { type: ['integer', 'null'], minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
    keys: { type: 'object', required: ['p256dh', 'auth'], properties: { p256dh: base64url(86, 88), auth: base64url(21, 24) } },
  },
} as const;

export interface PushSubscriptionJson {
  endpoint: string;
  expirationTime?: number | null;
  keys: { p256dh: string; auth: string };
}

/** 400 for an endpoint written as an address that is not a push service's (the push worker also checks names after DNS). */
export function requirePushServiceEndpoint(addresses: PushServiceAddresses, endpoint: string): void {
  const refusal = addresses.endpointRefusal(endpoint);
  if (refusal) throw new PushwireError('invalid_field', `subscription.endpoint: ${refusal}; not a push service`);
}

/** One schema per platform; `platform` picks it. */
const deviceBody = {
  type: 'object',
  required: ['platform'],
  properties: { platform: { enum: ['apns', 'fcm', 'gcm', 'webpush', 'android'] } },
  oneOf: [
    { properties: { platform: { const: 'apns' }, token: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' }, app: appId }, required: ['token'] },
    { properties: { platform: { enum: ['fcm', 'gcm', 'android'] }, token: { type: 'string', minLength: 1, maxLength: 4096 }, app: appId }, required: ['token'] },
    {
      properties: {
        platform: { const: 'webpush' },
        app: appId,
        subscription: pushSubscriptionSchema,
      },
      required: ['subscription'],
    },
  ],
} as const;

interface DeviceBody {
  /** `android` means FCM HTTP v1, the default Android provider. */
  platform: Platform | 'android';
  app?: string;
  token?: string;
  subscription?: PushSubscriptionJson;
}

/** What a client sees of a device: never the Web Push keys. */
const view = (device: Device) => ({
  id: device.id, app: device.app, platform: device.platform, token: device.token, createdAt: device.createdAt,
  expiredAt: device.expiredAt, expiredReason: device.expiredReason,
});

export function deviceRoutes(app: FastifyInstance, { config, store, devices, outbox, applications, limit }: ApiContext): void {
  const addresses = new PushServiceAddresses(config.webPushPrivateAddresses);
  /**
   * Registers a device of the token's user for offline pushes; the same (app, platform, token)
   * again answers 200; another user's device 409 device_taken.
   */
  app.post('/devices/', {
    ...limit('devices'),
    schema: {
      tags: ['devices'], summary: 'Registers a device for offline pushes', security: asUser,
      description: '201 when new; the same (app, platform, token) again answers 200; another user\'s device 409 device_taken.',
      body: deviceBody,
      response: { 200: object({ device: deviceView }), 201: object({ device: deviceView }) },
    },
  }, async (request, reply) => {
    const user = await requireUser(store, request);
    const body = request.body as DeviceBody;
    if (body.platform === 'webpush') requirePushServiceEndpoint(addresses, body.subscription!.endpoint);
    const device: NewDevice = body.platform === 'webpush'
      ? { app: body.app ?? DEFAULT_APP, platform: 'webpush', token: body.subscription!.endpoint, keys: body.subscription!.keys, expirationTime: body.subscription!.expirationTime ?? null }
      : { app: body.app ?? DEFAULT_APP, platform: body.platform === 'android' ? 'fcm' : body.platform, token: body.platform === 'apns' ? body.token!.toLowerCase() : body.token! };
    const registration = await devices.register(user.id, device, config.maxDevicesPerToken);
    if (registration.outcome === 'taken') throw new PushwireError('device_taken');
    if (registration.outcome === 'full') throw new PushwireError('too_many_devices');
    return reply.status(registration.outcome === 'created' ? 201 : 200).send({ device: view(registration.device) });
  });

  app.get('/devices/', {
    schema: {
      tags: ['devices'], summary: 'The user\'s devices', security: asUser,
      response: { 200: object({ devices: { type: 'array', items: deviceView } }) },
    },
  }, async (request) => {
    const user = await requireUser(store, request);
    return { devices: (await devices.list(user.id)).map(view) };
  });

  app.delete('/devices/:id/', {
    schema: { tags: ['devices'], summary: 'Removes a device', security: asUser, params: deviceId, response: { 200: object({ deleted: boolean }) } },
  }, async (request) => {
    const user = await requireUser(store, request);
    if (!(await devices.remove(user.id, (request.params as { id: number }).id))) throw new PushwireError('device_not_found');
    return { deleted: true };
  });

  /** The key a page passes to pushManager.subscribe({applicationServerKey}). */
  app.get('/devices/vapid-key', {
    schema: { tags: ['devices'], summary: 'The Web Push application server key', response: { 200: object({ publicKey: string }) } },
  }, async () => ({ publicKey: (await defaultVapidKeys(config, applications)).publicKey }));

  /** Per-device push results of one of the user's messages. */
  app.get('/pushes/:key/', {
    schema: {
      tags: ['devices'], summary: 'Per-device push results of one of the user\'s messages', security: asUser,
      params: { type: 'object', properties: { key: { type: 'string', maxLength: 64 } } },
      response: {
        200: object({
          key: string,
          pushes: {
            type: 'array',
            items: object({
              deviceId: integer, platform: string, status: { type: 'string', enum: ['pending', 'sent', 'failed', 'expired'] }, attempts: integer,
              result: { ...nullable('object'), description: 'What the push service answered.' }, updatedAt: string,
            }),
          },
        }),
      },
    },
  }, async (request) => {
    const user = await requireUser(store, request);
    const { key } = request.params as { key: string };
    const position = decodeKey(key);
    if (!position || position.userId !== user.id) throw new PushwireError('bad_key', '`key` must be the key of one of this token\'s messages.');
    return { key, pushes: await outbox.results(user.id, position.seq) };
  });

  /** Tokens the providers declared dead, newest first, like Apple's feedback service. Needs the admin token. */
  app.get('/applications/:app/expired-devices', {
    schema: {
      tags: ['devices'], summary: 'Tokens the providers declared dead, newest first', security: [{ admin: [] }],
      params: { type: 'object', properties: { app: appId } },
      querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 10_000 } } },
      response: { 200: object({ devices: { type: 'array', items: expiredToken } }) },
    },
  }, async (request) => {
    requireAdmin(request, config.adminToken);
    const { app: id } = request.params as { app: string };
    const limit = (request.query as { limit?: number }).limit ?? 1000;
    return { devices: await devices.expired(id, limit) };
  });
}
