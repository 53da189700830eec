import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../core/config.js';
import { BODY_OPTIONAL, sharedSchemas } from './schemas.js';

/**
 * The API's contract, OpenAPI 3.1, generated from the schemas the routes validate with (one
 * source): served at /openapi.json, browsable at /docs. Registered before any route, so it
 * sees every one of them (compatibility APIs included, under their prefixes).
 */
export async function openApi(app: FastifyInstance, config: Config): Promise<void> {
  for (const schema of sharedSchemas) app.addSchema(schema);
  // Response schemas document what a route answers; they do not shape it. Fastify's default
  // serializer would silently drop any field a schema forgot, so answers stay JSON.stringify's,
  // and the test suites hold every answer they get to the document instead (test/helpers/contract.ts).
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Pushwire',
        version: '0.1.0',
        description: 'Publish over HTTP, deliver over websockets, catch up with `since`/`limit`, reach offline clients through APNS, FCM and Web Push. '
          + 'Every error is `{"error": code, "message": text}` with one of the codes listed in the Error schema.',
      },
      servers: [{ url: config.publicUrl }],
      tags: [
        { name: 'users', description: 'Tokens and their queues.' },
        { name: 'messages', description: 'Publishing, reading, read markers.' },
        { name: 'devices', description: 'Offline push: devices and their results.' },
        { name: 'operations', description: 'Health, readiness, metrics, gateways.' },
        { name: 'browser', description: 'What pages load: the SDK bundles, the demo.' },
        { name: 'web-push-subscriptions', description: `The Web Push subscription module (under ${config.webPushPrefix}).` },
        { name: 'pushjack', description: `The pushjack API (under ${config.pushjackPrefix}).` },
        { name: 'moxie', description: `Moxie notifications (under ${config.moxiePrefix}).` },
        { name: 'pushlet', description: `Pushlet (under ${config.pushletPrefix}).` },
      ],
      components: {
        securitySchemes: {
          token: { type: 'apiKey', in: 'header', name: 'X-Auth-Token', description: 'A user\'s token (from POST /token/); also accepted as a `token` query or body field.' },
          admin: { type: 'http', scheme: 'bearer', description: 'PUSHWIRE_ADMIN_TOKEN.' },
          basic: { type: 'http', scheme: 'basic', description: 'PUSHWIRE_PUSHJACK_* or PUSHWIRE_PUSHLET_* credentials.' },
          moxieHmac: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'Moxie\'s HMAC signature, with X-Moxie-Key, X-HMAC-Nonce and Date.' },
        },
      },
    },
    transformObject: (document) => {
      const openapiObject = (document as { openapiObject: { paths?: Record<string, Record<string, unknown>> } }).openapiObject;
      for (const operation of Object.values(openapiObject.paths ?? {}).flatMap((path) => Object.values(path ?? {}))) {
        const marked = operation as { [BODY_OPTIONAL]?: boolean; requestBody?: { required?: boolean; content: Record<string, unknown> } };
        const body = marked.requestBody;
        // Every route reads form bodies as it reads JSON (app.ts registers @fastify/formbody for all).
        if (body?.content['application/json'] && Object.keys(body.content).length === 1) {
          body.content['application/x-www-form-urlencoded'] = body.content['application/json'];
        }
        // Hooks that run for every route (content types, the storable check, rate limits) may refuse any request.
        const responses = (operation as { responses: Record<string, unknown> }).responses;
        for (const range of ['4XX', '5XX']) responses[range] ??= { description: 'An error.', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
        // Swagger says every body is required (Fastify needs one when it validates it); not so for bodies handlers read.
        if (marked[BODY_OPTIONAL] && body) body.required = false;
        delete marked[BODY_OPTIONAL];
      }
      return openapiObject as never;
    },
    // Shared schemas appear under components.schemas by their $id.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, index) => String(json.$id ?? `def-${index}`) },
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { deepLinking: true },
    uiHooks: {
      onRequest: async (request, reply) => {
        // @fastify/swagger-ui 6.1 answers /docs/static/index.html?anything with a redirect to itself, forever.
        if (/\/static\/index\.html\?/.test(request.url)) return reply.redirect('/docs/');
        // The document has one address: the page's own copy of it points there.
        if (request.url.split('?')[0] === '/docs/json') return reply.redirect('/openapi.json', 301);
      },
    },
  });
  app.get('/openapi.json', {
    schema: { tags: ['operations'], summary: 'This document (browsable at /docs)', response: { 200: { type: 'object', description: 'OpenAPI 3.1.' } } },
  }, async () => app.swagger());
}
