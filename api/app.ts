import http from 'node:http';
import formbody from '@fastify/formbody';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { operationalRoutes, serverOptions } from '../core/http.js';
import type { Logger } from '../core/log.js';
import type { ApiContext } from './context.js';
import { moxieApi } from './compat/moxie.js';
import { pushjackApi } from './compat/pushjack.js';
import { pushletApi } from './compat/pushlet.js';
import { webPushSubscriptionsApi } from './compat/webpush-subscriptions.js';
import { installErrorHandling } from './errors.js';
import { openApi } from './openapi.js';
import { publishLane } from './publish-lane.js';
import { logRequests } from './request-log.js';
import { rateLimits } from './rate-limits.js';
import { refuseUnstorable } from './storable.js';
import { browserRoutes } from './static.js';
import { deviceRoutes } from './routes/devices.js';
import { messageRoutes } from './routes/messages.js';
import { batchPublishRoutes } from './routes/publish.js';
import { nodeRoutes } from './routes/nodes.js';
import { queueRoutes } from './routes/queues.js';
import { tokenRoutes } from './routes/tokens.js';

/** The HTTP API, ready to `listen` or `inject`. */
export async function buildApi(base: Omit<ApiContext, 'limit' | 'publishes'>, log: Logger): Promise<FastifyInstance> {
  // Set once the routes exist: until then every request is Fastify's.
  let lane: ((request: http.IncomingMessage, response: http.ServerResponse) => boolean) | null = null;
  const app = Fastify({
    ...serverOptions(base.config),
    // Fastify's own server, as it makes it, with the publish lane in front (publish-lane.ts).
    serverFactory: (handler, options) => {
      const settings = options as { http?: http.ServerOptions; keepAliveTimeout: number; requestTimeout: number; connectionTimeout: number };
      const server = http.createServer(settings.http ?? {}, (request, response) => {
        // Closing: Fastify answers 503 with Connection: close, so kept-alive connections end.
        if (!server.listening || !lane?.(request, response)) handler(request, response);
      });
      server.keepAliveTimeout = settings.keepAliveTimeout;
      server.requestTimeout = settings.requestTimeout;
      server.setTimeout(settings.connectionTimeout);
      return server;
    },
    // Behind reverse proxies, the client's address (rate limits) is the one they forward.
    trustProxy: base.config.trustProxy === 'true' ? true : base.config.trustProxy || false,
    loggerInstance: log as FastifyBaseLogger,
    // Logged by logRequests: errors and slow requests at info, the rest at debug.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: base.config.maxRequestBytes,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 128 },
    // Some compatibility fields take several JSON types (pushjack's message: text or a dictionary).
    ajv: { customOptions: { allowUnionTypes: true } },
  });
  await app.register(formbody, { bodyLimit: base.config.maxRequestBytes });
  // Only JSON and form bodies are accepted; anything else is 415 unsupported_media_type.
  app.removeContentTypeParser('text/plain');
  // An empty JSON body (curl -H 'content-type: application/json' -X POST) means no fields, not an error.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    if (body === '') return done(null, undefined);
    try {
      done(null, JSON.parse(body as string));
    } catch (error) {
      done(Object.assign(error as Error, { statusCode: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY' }), undefined);
    }
  });
  installErrorHandling(app);
  await openApi(app, base.config);
  app.decorateRequest('activeUser', null);
  app.addHook('onResponse', async (request) => {
    if (request.activeUser !== null) base.activity.seen(request.activeUser);
  });
  const context: ApiContext = { ...base, ...await rateLimits(app, base.config, base.rateLimitRedis, log) };
  refuseUnstorable(app);
  logRequests(app, context.config.slowRequestMs);
  await browserRoutes(app, context.config);
  tokenRoutes(app, context);
  queueRoutes(app, context);
  messageRoutes(app, context);
  batchPublishRoutes(app, context);
  nodeRoutes(app, context);
  deviceRoutes(app, context);
  operationalRoutes(app, async () => {
    await context.store.ping();
    return null;
  });
  if (context.config.webPushPrefix !== 'off') await app.register((scope) => webPushSubscriptionsApi(scope, context), { prefix: context.config.webPushPrefix });
  if (context.config.pushjackPrefix !== 'off') await app.register((scope) => pushjackApi(scope, context), { prefix: context.config.pushjackPrefix });
  if (context.config.moxiePrefix !== 'off') await app.register((scope) => moxieApi(scope, context), { prefix: context.config.moxiePrefix });
  if (context.config.pushletPrefix !== 'off') await app.register((scope) => pushletApi(scope, context), { prefix: context.config.pushletPrefix });
  lane = publishLane(context, log);
  return app;
}
