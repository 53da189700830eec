import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PushwireError } from '../../core/errors.js';
import { encodeKey } from '../../core/ids.js';
import { DEFAULT_APP } from '../../providers/registry.js';
import { requireAdmin, requireUser } from '../auth.js';
import type { ApiContext } from '../context.js';
import { PushServiceAddresses } from '../../providers/push-service-address.js';
import { pushSubscriptionSchema, requirePushServiceEndpoint, type PushSubscriptionJson } from '../routes/devices.js';
import { publishSchema, publishValidator } from '../publish-schema.js';
import { bodyCheckedByHandler, integer, object, string } from '../schemas.js';
import { BroadcastAudience } from './broadcast.js';

/**
 * The Web Push subscription module: `POST /subscribe` with the browser's PushSubscription JSON,
 * de-duplicated by endpoint, answering `{"ok": true, "count": N}` like the seed, but stored.
 * With a user's token (X-Auth-Token) the subscription joins that user's devices (their offline
 * fallback); without, it joins the broadcast audience that `POST /` (admin) reaches. Both are
 * capped (PUSHWIRE_MAX_DEVICES_PER_TOKEN, PUSHWIRE_MAX_ANONYMOUS_SUBSCRIPTIONS), and a
 * subscription that is another user's stays theirs (409 device_taken).
 */
export async function webPushSubscriptionsApi(app: FastifyInstance, { config, store, devices, applications, publisher, limit }: ApiContext): Promise<void> {
  const audience = new BroadcastAudience(store, applications);
  const owner = async (request: FastifyRequest) => (request.headers['x-auth-token'] ? requireUser(store, request) : (await audience.get()).user);
  const addresses = new PushServiceAddresses(config.webPushPrivateAddresses);
  const counted = object({ ok: { const: true }, count: { ...integer, description: 'Live subscriptions of the owner (the user, or the broadcast audience).' } });
  const documented = (summary: string) => ({
    tags: ['web-push-subscriptions'], summary, security: [{}, { token: [] as string[] }] as Record<string, string[]>[],
    description: 'With a user\'s token: that user\'s devices. Without: the broadcast audience.',
    response: { 200: counted },
  });
  const liveSubscriptions = async (userId: number) => (await devices.list(userId)).filter((d) => d.platform === 'webpush' && !d.expiredAt).length;

  app.post('/subscribe', { ...limit('devices'), schema: { ...documented('Stores a browser\'s PushSubscription'), body: pushSubscriptionSchema } }, async (request) => {
    const subscription = request.body as PushSubscriptionJson;
    requirePushServiceEndpoint(addresses, subscription.endpoint);
    const anonymous = !request.headers['x-auth-token'];
    const user = await owner(request);
    const registration = await devices.register(user.id, {
      app: DEFAULT_APP, platform: 'webpush', token: subscription.endpoint, keys: subscription.keys, expirationTime: subscription.expirationTime ?? null,
    }, anonymous ? config.maxAnonymousSubscriptions : config.maxDevicesPerToken);
    // An anonymous subscription never displaces a user's, nor a user's another user's.
    if (registration.outcome === 'taken') throw new PushwireError('device_taken');
    if (registration.outcome === 'full') {
      throw new PushwireError('too_many_devices', anonymous ? 'The broadcast audience holds the most anonymous subscriptions allowed.' : undefined);
    }
    return { ok: true, count: await liveSubscriptions(user.id) };
  });

  app.post('/unsubscribe', {
    schema: { ...documented('Removes a subscription'), body: { type: 'object', required: ['endpoint'], properties: { endpoint: { type: 'string', maxLength: 2048 } } } },
  }, async (request) => {
    const { endpoint } = request.body as { endpoint: string };
    const user = await owner(request);
    const device = (await devices.list(user.id)).find((d) => d.platform === 'webpush' && d.token === endpoint);
    if (!device) throw new PushwireError('device_not_found', 'No such subscription.');
    await devices.remove(user.id, device.id);
    return { ok: true, count: await liveSubscriptions(user.id) };
  });

  /** Broadcast to every anonymous subscription, through the durable outbox. */
  const validate = publishValidator(config);
  app.post('/', {
    // Checked as a queue's publish checks its body (missing_title, other fields dropped), once the admin token passed.
    config: bodyCheckedByHandler(publishSchema(config)),
    schema: {
      tags: ['web-push-subscriptions'], summary: 'Broadcasts to every anonymous subscription', security: [{ admin: [] }],
      response: { 202: object({ ok: { const: true }, key: string, count: integer }) },
    },
  }, async (request, reply) => {
    requireAdmin(request, config.adminToken);
    const { user, queue } = await audience.get();
    const { ttl, ...body } = validate(request.body ?? {});
    const message = await publisher.publish({
      queueId: queue.id, queue: queue.name, userId: user.id, kind: 'message', replaceId: body.replaceId ?? null, body, ttlSeconds: ttl ?? config.messageTtlSeconds,
    });
    return reply.status(202).send({ ok: true, key: encodeKey(message.userId, message.seq), count: await liveSubscriptions(user.id) });
  });
}
