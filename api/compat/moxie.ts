import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PushwireError } from '../../core/errors.js';
import type { MoxieFields, MoxieNotification } from '../../core/store/moxie.js';
import type { ApiContext } from '../context.js';
import { integer, object, string } from '../schemas.js';
import { BroadcastAudience, userWithToken } from './broadcast.js';
import { verifyMoxieRequest } from './hmac.js';

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

const formatDate = (date: Date) => date.toISOString().slice(0, 19);

const view = (n: MoxieNotification) => ({
  uuid: n.uuid, timestamp: formatDate(n.timestamp), message: n.message, expires: formatDate(n.expires),
  ...(n.url !== null ? { url: n.url } : {}), ...(n.label !== null ? { label: n.label } : {}),
  followups: n.followups.map((f) => ({ id: f.id, timestamp: formatDate(f.timestamp), message: f.message })),
});

const text = (max: number) => ({ type: 'string', minLength: 1, maxLength: max }) as const;
const notificationFields = { message: text(2048), timestamp: { type: 'string' }, expires: { type: 'string' }, url: { type: 'string', pattern: '^https?://', maxLength: 2048 }, label: text(255) };
const TRUE = new Set(['true', 'True', '1', 't']);

const followupView = object({ id: integer, timestamp: string, message: string });
const notificationView = {
  ...object({ uuid: string, timestamp: string, message: string, expires: string, followups: { type: 'array', items: followupView } }),
  properties: { uuid: string, timestamp: string, message: string, expires: string, url: string, label: string, followups: { type: 'array', items: followupView } },
} as const;
const changed = (status: string) => object({ ident: { type: ['string', 'integer'] }, status: { const: status } });
const documented = (summary: string, response: Record<number, unknown>, signed = true) => ({
  tags: ['moxie'], summary, ...(signed ? { security: [{ moxieHmac: [] }] } : {}), response: response,
});
const uuidParams = { type: 'object', properties: { uuid: string } } as const;
const followupParams = { type: 'object', properties: { uuid: string, id: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } } } as const;

/**
 * The Moxie notifications API: alerts with follow-ups, listed publicly, written with
 * HMAC-signed requests (see hmac.ts for the signed string). Creating, updating and following up
 * also publish to the queue of PUSHWIRE_MOXIE_BROADCAST_TOKEN, whose websocket clients see them live; POST /push pushes to the
 * broadcast audience's devices and mails the configured recipients.
 */
export async function moxieApi(app: FastifyInstance, context: ApiContext): Promise<void> {
  const { config, moxie, nonces, store, applications, publisher } = context;
  const audience = new BroadcastAudience(store, applications);
  // nodemailer is loaded only when e-mail is configured.
  const email = config.smtpUrl && config.emailTo ? new (await import('../../providers/email.js')).EmailProvider(config.smtpUrl, config.emailFrom!, config.emailTo.split(',').map((a) => a.trim())) : null;
  app.addHook('onClose', async () => email?.close());

  // Keep the raw body: it is part of the signed string. A body that is not JSON is refused only
  // once the signature passed, so an unsigned request learns nothing but 401.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
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
    preValidation: async (request: FastifyRequest) => {
      await verifyMoxieRequest(request, config.moxieUsers, nonces, config.moxieDateWindowSeconds);
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
      ...documented('Ongoing notifications (all of them with history=true)', { 200: object({ notifications: { type: 'array', items: notificationView } }) }, false),
      querystring: { type: 'object', properties: { history: { type: 'string' } } },
    },
  }, async (request) => {
    const history = TRUE.has((request.query as { history?: string }).history ?? '');
    return { notifications: (await moxie.list(history, new Date())).map(view) };
  });

  app.post('/push', { ...signed, schema: { ...documented('Pushes a message about a notification to the broadcast audience', { 202: object({ status: { const: 'accepted' } }) }), body: { type: 'object', required: ['notification', 'message'], properties: { notification: text(64), message: text(255) }, additionalProperties: false } } }, async (request, reply) => {
    const body = request.body as { notification: string; message: string };
    const notification = await found(body.notification);
    const { user, queue } = await audience.get();
    await publisher.publish({
      queueId: queue.id, queue: queue.name, userId: user.id, kind: 'message', replaceId: `moxie-${notification.uuid}`,
      body: { title: body.message, ...(notification.url ? { actionUrl: notification.url } : {}) },
      ttlSeconds: Math.max(1, Math.min(config.maxTtlSeconds, Math.floor((notification.expires.getTime() - Date.now()) / 1000))),
    });
    if (email) {
      await email.send(body.message, [notification.message, ...(notification.url ? [notification.url] : [])].join('\n\n'))
        .catch((error) => request.log.warn({ err: error }, 'email provider failed'));
    }
    return reply.status(202).send({ status: 'accepted' });
  });

  app.get('/:uuid', { schema: { ...documented('One notification', { 200: notificationView }, false), params: uuidParams } }, async (request) => view(await found((request.params as { uuid: string }).uuid)));

  app.post('/:uuid', { ...signed, schema: { ...documented('Updates a notification', { 200: changed('updated') }), params: uuidParams, body: { type: 'object', properties: notificationFields, additionalProperties: false, minProperties: 1 } } }, async (request, reply) => {
    const { uuid } = request.params as { uuid: string };
    if (!(await moxie.update(uuid, fieldsOf(request.body as Record<string, unknown>)))) throw new PushwireError('notification_not_found');
    await announceNotification(await found(uuid));
    location(reply, `/${uuid}`);
    return { ident: uuid, status: 'updated' };
  });

  app.delete('/:uuid', { ...signed, schema: { ...documented('Deletes a notification', { 200: changed('deleted') }), params: uuidParams } }, async (request) => {
    const { uuid } = request.params as { uuid: string };
    if (!(await moxie.remove(uuid))) throw new PushwireError('notification_not_found');
    return { ident: uuid, status: 'deleted' };
  });

  const followupBody = { type: 'object', properties: { message: text(2048), timestamp: { type: 'string' } }, additionalProperties: false } as const;

  app.post('/:uuid/followup', { ...signed, schema: { ...documented('Adds a follow-up', { 201: changed('created') }), params: uuidParams, body: { ...followupBody, required: ['message'] } } }, async (request, reply) => {
    const { uuid } = request.params as { uuid: string };
    const body = request.body as { message: string; timestamp?: string };
    const notification = await found(uuid);
    const id = await moxie.addFollowup(uuid, body.message, body.timestamp ? parseDate(body.timestamp, 'timestamp') : new Date());
    if (id === null) throw new PushwireError('notification_not_found');
    await announce({ title: body.message, body: notification.message, ...(notification.url ? { actionUrl: notification.url } : {}), replaceId: `moxie-${uuid}-${id}` });
    location(reply, `/${uuid}/followup/${id}`);
    return reply.status(201).send({ ident: id, status: 'created' });
  });

  app.post('/:uuid/followup/:id', { ...signed, schema: { ...documented('Updates a follow-up', { 200: changed('updated') }), params: followupParams, body: { ...followupBody, minProperties: 1 } } }, async (request, reply) => {
    const { uuid, id } = request.params as { uuid: string; id: number };
    const body = request.body as { message?: string; timestamp?: string };
    const updated = await moxie.updateFollowup(uuid, id, { message: body.message, timestamp: body.timestamp ? parseDate(body.timestamp, 'timestamp') : undefined });
    if (!updated) throw new PushwireError('followup_not_found');
    const notification = await found(uuid);
    const followup = notification.followups.find((f) => f.id === id)!;
    await announce({ title: followup.message, body: notification.message, replaceId: `moxie-${uuid}-${id}` });
    location(reply, `/${uuid}/followup/${id}`);
    return { ident: id, status: 'updated' };
  });

  app.delete('/:uuid/followup/:id', { ...signed, schema: { ...documented('Deletes a follow-up', { 200: changed('deleted') }), params: followupParams } }, async (request) => {
    const { uuid, id } = request.params as { uuid: string; id: number };
    if (!(await moxie.removeFollowup(uuid, id))) throw new PushwireError('followup_not_found');
    return { ident: id, status: 'deleted' };
  });
}
