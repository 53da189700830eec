import type { FastifyInstance } from 'fastify';
import { PushwireError } from '../../core/errors.js';
import { decodeKey } from '../../core/ids.js';
import type { Device, NewDevice, Platform } from '../../core/store/devices.js';
import { PushServiceAddresses } from '../../providers/push-service-address.js';
import { DEFAULT_APP, defaultVapidKeys } from '../../providers/registry.js';
import { requireAdmin, requireUser } from '../auth.js';
import type { ApiContext } from '../context.js';

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
  app.post('/devices/', { ...limit('devices'), schema: { body: deviceBody } }, async (request, reply) => {
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

  app.get('/devices/', async (request) => {
    const user = await requireUser(store, request);
    return { devices: (await devices.list(user.id)).map(view) };
  });

  app.delete('/devices/:id/', { schema: { params: { type: 'object', properties: { id: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } } } } }, async (request) => {
    const user = await requireUser(store, request);
    if (!(await devices.remove(user.id, (request.params as { id: number }).id))) throw new PushwireError('device_not_found');
    return { deleted: true };
  });

  /** The key a page passes to pushManager.subscribe({applicationServerKey}). */
  app.get('/devices/vapid-key', async () => ({ publicKey: (await defaultVapidKeys(config, applications)).publicKey }));

  /** Per-device push results of one of the user's messages. */
  app.get('/pushes/:key/', { schema: { params: { type: 'object', properties: { key: { type: 'string', maxLength: 64 } } } } }, async (request) => {
    const user = await requireUser(store, request);
    const { key } = request.params as { key: string };
    const position = decodeKey(key);
    if (!position || position.userId !== user.id) throw new PushwireError('bad_key', '`key` must be the key of one of this token\'s messages.');
    return { key, pushes: await outbox.results(user.id, position.seq) };
  });

  /** Tokens the providers declared dead, newest first, like Apple's feedback service. Needs the admin token. */
  app.get('/applications/:app/expired-devices', {
    schema: { params: { type: 'object', properties: { app: appId } }, querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 10_000 } } } },
  }, async (request) => {
    requireAdmin(request, config.adminToken);
    const { app: id } = request.params as { app: string };
    const limit = (request.query as { limit?: number }).limit ?? 1000;
    return { devices: await devices.expired(id, limit) };
  });
}
