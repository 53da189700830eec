import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PushwireError } from '../../core/errors.js';
import accepts from 'accepts';
import type { MoxieFields, MoxieNotification } from '../../core/store/moxie.js';
import type { Platform } from '../../core/store/devices.js';
import { DEFAULT_APP } from '../../providers/registry.js';
import type { ApiContext } from '../context.js';
import { integer, object, string } from '../schemas.js';
import { BroadcastAudience, userWithToken } from './broadcast.js';
import { followupView, listView, moxieSchemas, notificationView, type Representation } from './moxie-views.js';
import { verifyMoxieRequest } from './hmac.js';
import { installMoxieErrors } from './moxie-errors.js';

/** Moxie's date format, YYYY-mm-DDTHH:mm:ss, read and written as UTC. */
const DATE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;
const HOUR = 3600_000;

function parseDate(value: unknown, field: string): Date {
  const match = typeof value === 'string' ? DATE.exec(value) : null;
  const date = match ? new Date(Date.UTC(+match[1], +match[2] - 1, +match[3], +match[4], +match[5], +(match[6] ?? 0))) : null;
  if (!date || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 16) !== `${match![1]}-${match![2]}-${match![3]}T${match![4]}:${match![5]}`) {
    throw new PushwireError('invalid_field', `${field} must be a date as YYYY-mm-DDTHH:mm:ss`);
  }
  return date;
}

const text = (max: number) => ({ type: 'string', minLength: 1, maxLength: max }) as const;
const notificationFields = { message: text(2048), timestamp: { type: 'string' }, expires: { type: 'string' }, url: { type: 'string', pattern: '^https?://', maxLength: 2048 }, label: text(255) };
const TRUE = new Set(['true', 'True', '1', 't']);

const changed = (status: string) => object({ ident: { type: ['string', 'integer'] }, status: { const: status } });
/** Answers in both media types a client may ask for (see moxie-views.ts). */
const represented = (schema: unknown) => ({ content: { 'application/json': { schema }, 'application/hal+json': { schema } } });
const withStatus = (schema: { properties: object; required: readonly string[] }, status: string) =>
  ({ ...schema, required: [...schema.required, 'status'], properties: { ...schema.properties, status: { const: status } } });
const documented = (summary: string, response: Record<number, unknown>, signed = true) => ({
  tags: ['moxie'], summary, ...(signed ? { security: [{ moxieHmac: [] }] } : {}), response: response, consumes: BODY_AS_JSON,
  description: 'Answers HAL+JSON when Accept asks for application/hal+json, plain JSON (which carries the HAL members too) otherwise; 406 when Accept allows neither.',
});
const MEDIA = ['application/json', 'application/hal+json'];
/** Moxie reads a body as JSON whatever its content type: any media type, documented so. */
const BODY_AS_JSON = ['*/*'];
/** Push messages: Moxie's limits, counted after trimming. */
const PUSH_MESSAGE = { min: 3, max: 250 };
/** Mobile devices register their push token here (Moxie's /register routes): the platform and the body's field. */
const REGISTRATION: Record<'gcm' | 'apns', { platform: Platform; field: string; pattern: RegExp }> = {
  gcm: { platform: 'gcm', field: 'registration_id', pattern: /^[\x21-\x7e]{1,4096}$/ },
  apns: { platform: 'apns', field: 'device_token', pattern: /^[0-9a-fA-F]{64,200}$/ },
};
const uuidParams = { type: 'object', properties: { uuid: string } } as const;
const followupParams = { type: 'object', properties: { uuid: string, id: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } } } as const;

/**
 * The Moxie notifications API: alerts with follow-ups, listed publicly, written with
 * HMAC-signed requests (see hmac.ts for the signed string). Creating, updating and following up
 * also publish to the queue of PUSHWIRE_MOXIE_BROADCAST_TOKEN, whose websocket clients see them live; POST /push pushes to the
 * broadcast audience's devices and mails the configured recipients.
 */
export async function moxieApi(app: FastifyInstance, context: ApiContext): Promise<void> {
  const { config, moxie, nonces, store, applications, publisher, devices, limit } = context;
  const audience = new BroadcastAudience(store, applications);
  // nodemailer is loaded only when e-mail is configured.
  const email = config.smtpUrl && config.emailTo ? new (await import('../../providers/email.js')).EmailProvider(config.smtpUrl, config.emailFrom!, config.emailTo.split(',').map((a) => a.trim())) : null;
  app.addHook('onClose', async () => email?.close());

  installMoxieErrors(app);
  // Moxie reads every body as JSON, whatever its type (`curl -d` sends a form type): so do we.
  // The raw body is kept for Pushwire's signing scheme. A body that is not JSON is refused only
  // once the signature passed, so an unsigned request learns nothing but 401.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (request, body, done) => {
    const withRaw = request as FastifyRequest & { rawBody?: string; badJson?: string };
    withRaw.rawBody = body as string;
    try {
      done(null, (body as string).length ? JSON.parse(body as string) : {});
    } catch (error) {
      withRaw.badJson = (error as Error).message;
      done(null, {});
    }
  });
  // Before the schema runs: the signature first, then what the body holds.
  const signed = {
    preValidation: async (request: FastifyRequest, reply: FastifyReply) => {
      await verifyMoxieRequest(request, reply, config.moxieUsers, nonces, config.moxieDateWindowSeconds);
      const { badJson } = request as FastifyRequest & { badJson?: string };
      if (badJson) throw new PushwireError('bad_request', `The body is not JSON: ${badJson}`);
    },
  };

  const channel = config.moxieBroadcastToken ? (await userWithToken(store, config.moxieBroadcastToken)).queue : null;
  const announce = async (fields: { title: string; body?: string; actionUrl?: string; replaceId: string }) => {
    if (!channel) return;
    await publisher.publish({ queueId: channel.id, queue: channel.name, userId: channel.userId, kind: 'message', replaceId: fields.replaceId, body: fields, ttlSeconds: config.messageTtlSeconds });
  };
  const location = (reply: FastifyReply, path: string) => reply.header('location', `${config.moxiePrefix}${path}`);
  const found = async (uuid: string) => {
    const notification = await moxie.get(uuid);
    if (!notification) throw new PushwireError('notification_not_found');
    return notification;
  };
  const fieldsOf = (body: Record<string, unknown>): MoxieFields => ({
    ...(body.message !== undefined ? { message: body.message as string } : {}),
    ...(body.timestamp !== undefined ? { timestamp: parseDate(body.timestamp, 'timestamp') } : {}),
    ...(body.expires !== undefined ? { expires: parseDate(body.expires, 'expires') } : {}),
    ...(body.url !== undefined ? { url: body.url as string } : {}),
    ...(body.label !== undefined ? { label: body.label as string } : {}),
  });
  const announceNotification = (n: MoxieNotification) =>
    announce({ title: n.message, ...(n.label ? { body: n.label } : {}), ...(n.url ? { actionUrl: n.url } : {}), replaceId: `moxie-${n.uuid}` });

  // Moxie answered preflights 200 with a 6-hour Max-Age. It listed no headers, so browsers could
  // not send its signed requests; these are the headers a signed request carries. @fastify/cors
  // (registered for the whole API) takes a route's own options: this route is the scope's preflight.
  if (config.corsOrigin !== 'off') {
    app.options('/*', {
      schema: { hide: true },
      config: { cors: { methods: ['GET', 'HEAD', 'POST', 'DELETE', 'OPTIONS'], allowedHeaders: ['content-type', 'accept', 'x-moxie-key', 'x-hmac-nonce', 'authorization', 'date'], maxAge: 21600, optionsSuccessStatus: 200 } },
    }, (_request, reply) => reply.send());
  }

  /** The representation this request asked for: set once, before anything else (Moxie answers 406 first). */
  const representation = (request: FastifyRequest) => (request as FastifyRequest & { representation: Representation }).representation;
  app.addHook('onRequest', async (request) => {
    const type = request.headers.accept === undefined ? MEDIA[0] : accepts(request.raw).type(MEDIA);
    if (!type) throw new PushwireError('not_acceptable');
    (request as FastifyRequest & { representation: Representation }).representation = type === 'application/hal+json' ? 'hal' : 'plain';
  });
  /** Sends a representation in the media type it is. */
  const answer = (request: FastifyRequest, reply: FastifyReply, body: unknown, status = 200) =>
    reply.status(status).type(representation(request) === 'hal' ? 'application/hal+json' : 'application/json').send(body);
  const prefix = config.moxiePrefix;

  app.post('/', { ...signed, schema: { ...documented('Creates a notification', { 201: changed('created') }), body: { type: 'object', required: ['message'], properties: notificationFields, additionalProperties: false } } }, async (request, reply) => {
    const fields = fieldsOf(request.body as Record<string, unknown>);
    const timestamp = fields.timestamp ?? new Date(Math.floor(Date.now() / 1000) * 1000);
    const notification = {
      uuid: randomUUID(), message: fields.message!, timestamp, expires: fields.expires ?? new Date(timestamp.getTime() + HOUR),
      url: fields.url ?? null, label: fields.label ?? null,
    };
    if (notification.expires <= notification.timestamp) throw new PushwireError('invalid_field', 'expires must be after timestamp');
    await moxie.create(notification);
    await announceNotification({ ...notification, followups: [] });
    location(reply, `/${notification.uuid}`);
    return reply.status(201).send({ ident: notification.uuid, status: 'created' });
  });

  app.get('/', {
    schema: {
      ...documented('Ongoing notifications (started and not expired); all of them with history=true', { 200: represented(moxieSchemas.list) }, false),
      querystring: { type: 'object', properties: { history: { type: 'string' } } },
    },
  }, async (request, reply) => {
    const history = TRUE.has((request.query as { history?: string }).history ?? '');
    return answer(request, reply, listView(prefix, await moxie.list(history, new Date()), representation(request)));
  });

  app.post('/push', {
    ...signed,
    schema: {
      ...documented('Pushes a message about a notification to the broadcast audience and the registered devices', { 202: object({ status: { const: 'success' } }) }),
      body: { type: 'object', required: ['notification', 'message'], properties: { notification: text(64), message: { type: 'string', maxLength: 4096 } }, additionalProperties: false },
    },
  }, async (request, reply) => {
    const body = request.body as { notification: string; message: string };
    const message = body.message.trim();
    if (message.length < PUSH_MESSAGE.min || message.length > PUSH_MESSAGE.max) {
      throw new PushwireError('invalid_field', `'message' must be between ${PUSH_MESSAGE.min} and ${PUSH_MESSAGE.max} characters`, { location: 'body', name: 'message' });
    }
    // Moxie answers an unknown notification with 400: the request names it, the URL does not.
    const notification = await moxie.get(body.notification);
    if (!notification) throw new PushwireError('invalid_field', `Notification '${body.notification}' not found`, { location: 'body', name: 'notification' });
    const { user, queue } = await audience.get();
    await publisher.publish({
      queueId: queue.id, queue: queue.name, userId: user.id, kind: 'message', replaceId: `moxie-${notification.uuid}`,
      body: { title: message, ...(notification.url ? { actionUrl: notification.url } : {}) },
      ttlSeconds: Math.max(1, Math.min(config.maxTtlSeconds, Math.floor((notification.expires.getTime() - Date.now()) / 1000))),
    });
    if (email) {
      await email.send(message, [notification.message, ...(notification.url ? [notification.url] : [])].join('\n\n'))
        .catch((error) => request.log.warn({ err: error }, 'email provider failed'));
    }
    return reply.status(202).send({ status: 'success' });
  });

  for (const [service, { platform, field, pattern }] of Object.entries(REGISTRATION)) {
    app.post(`/register/${service}`, {
      ...limit('devices'),
      schema: {
        tags: ['moxie'], consumes: BODY_AS_JSON, summary: `Registers a device's ${service === 'gcm' ? 'GCM/FCM registration id' : 'APNS device token'} for POST /push`,
        description: 'Public, as Moxie\'s. The device joins the broadcast audience (capped by PUSHWIRE_MAX_ANONYMOUS_SUBSCRIPTIONS).',
        body: { type: 'object', properties: { [field]: string } },
        response: { 202: object({ success: { const: true } }) },
      },
    }, async (request, reply) => {
      const { badJson } = request as FastifyRequest & { badJson?: string };
      const token = (request.body as Record<string, unknown>)[field];
      if (badJson) throw new PushwireError('bad_request', 'Expected JSON in POST data');
      if (token === undefined) throw new PushwireError('invalid_field', `Expected key: ${field}`, { location: 'body', name: field });
      if (typeof token !== 'string' || !pattern.test(token)) throw new PushwireError('invalid_field', `${field} is not a ${service === 'gcm' ? 'registration id' : 'device token'}`, { location: 'body', name: field });
      const { user } = await audience.get();
      const registration = await devices.register(user.id, { app: DEFAULT_APP, platform, token }, config.maxAnonymousSubscriptions);
      if (registration.outcome === 'taken') throw new PushwireError('device_taken');
      if (registration.outcome === 'full') throw new PushwireError('too_many_devices', 'The broadcast audience holds the most devices allowed.');
      return reply.status(202).send({ success: true });
    });
  }

  app.get('/:uuid', { schema: { ...documented('One notification', { 200: represented(moxieSchemas.notification) }, false), params: uuidParams } }, async (request, reply) =>
    answer(request, reply, notificationView(prefix, await found((request.params as { uuid: string }).uuid), representation(request))));

  app.post('/:uuid', {
    ...signed,
    schema: { ...documented('Updates a notification; answers it as updated', { 200: represented(withStatus(moxieSchemas.notification, 'updated')) }), params: uuidParams, body: { type: 'object', properties: notificationFields, additionalProperties: false, minProperties: 1 } },
  }, async (request, reply) => {
    const { uuid } = request.params as { uuid: string };
    if (!(await moxie.update(uuid, fieldsOf(request.body as Record<string, unknown>)))) throw new PushwireError('notification_not_found');
    const notification = await found(uuid);
    await announceNotification(notification);
    location(reply, `/${uuid}`);
    return answer(request, reply, { ...notificationView(prefix, notification, representation(request)), status: 'updated' });
  });

  app.delete('/:uuid', { ...signed, schema: { ...documented('Deletes a notification', { 200: changed('deleted') }), params: uuidParams } }, async (request) => {
    const { uuid } = request.params as { uuid: string };
    if (!(await moxie.remove(uuid))) throw new PushwireError('notification_not_found');
    return { ident: uuid, status: 'deleted' };
  });

  const followupBody = { type: 'object', properties: { message: text(2048), timestamp: { type: 'string' } }, additionalProperties: false } as const;
  const followupOf = async (uuid: string, id: number) => {
    const notification = await found(uuid);
    const followup = notification.followups.find((f) => f.id === id);
    if (!followup) throw new PushwireError('followup_not_found');
    return { notification, followup };
  };

  app.post('/:uuid/followup', {
    ...signed,
    schema: { ...documented('Adds a follow-up', { 201: object({ id: integer, ident: integer, status: { const: 'created' } }) }), params: uuidParams, body: { ...followupBody, required: ['message'] } },
  }, async (request, reply) => {
    const { uuid } = request.params as { uuid: string };
    const body = request.body as { message: string; timestamp?: string };
    const notification = await found(uuid);
    const id = await moxie.addFollowup(uuid, body.message, body.timestamp ? parseDate(body.timestamp, 'timestamp') : new Date());
    if (id === null) throw new PushwireError('notification_not_found');
    await announce({ title: body.message, body: notification.message, ...(notification.url ? { actionUrl: notification.url } : {}), replaceId: `moxie-${uuid}-${id}` });
    location(reply, `/${uuid}/followup/${id}`);
    return reply.status(201).send({ status: 'created', id, ident: id });
  });

  app.get('/:uuid/followup/:id', { schema: { ...documented('One follow-up', { 200: represented(moxieSchemas.followup) }, false), params: followupParams } }, async (request, reply) => {
    const { uuid, id } = request.params as { uuid: string; id: number };
    const { followup } = await followupOf(uuid, id);
    return answer(request, reply, followupView(prefix, uuid, followup, representation(request)));
  });

  app.post('/:uuid/followup/:id', {
    ...signed,
    schema: { ...documented('Updates a follow-up; answers it as updated', { 200: represented(withStatus(moxieSchemas.followup, 'updated')) }), params: followupParams, body: { ...followupBody, minProperties: 1 } },
  }, async (request, reply) => {
    const { uuid, id } = request.params as { uuid: string; id: number };
    const body = request.body as { message?: string; timestamp?: string };
    const updated = await moxie.updateFollowup(uuid, id, { message: body.message, timestamp: body.timestamp ? parseDate(body.timestamp, 'timestamp') : undefined });
    if (!updated) throw new PushwireError('followup_not_found');
    const { notification, followup } = await followupOf(uuid, id);
    await announce({ title: followup.message, body: notification.message, replaceId: `moxie-${uuid}-${id}` });
    location(reply, `/${uuid}/followup/${id}`);
    return answer(request, reply, { ...followupView(prefix, uuid, followup, representation(request)), ident: id, status: 'updated' });
  });

  app.delete('/:uuid/followup/:id', { ...signed, schema: { ...documented('Deletes a follow-up', { 200: changed('deleted') }), params: followupParams } }, async (request) => {
    const { uuid, id } = request.params as { uuid: string; id: number };
    if (!(await moxie.removeFollowup(uuid, id))) throw new PushwireError('followup_not_found');
    return { ident: id, status: 'deleted' };
  });
}
