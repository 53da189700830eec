import cors from '@fastify/cors';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../core/config.js';
import { BUNDLE_DIR, ROOT } from '../sdk/paths.js';

/**
 * What browsers load from the api: the client SDK (`/sdk/pushwire.js`, the service worker
 * `/sdk/sw.js`), the demo page, and CORS so pages on other origins may call the API.
 */
export async function browserRoutes(app: FastifyInstance, config: Config): Promise<void> {
  if (config.corsOrigin !== 'off') {
    await app.register(cors, {
      origin: config.corsOrigin === '*' ? '*' : config.corsOrigin.split(',').map((origin) => origin.trim()),
      methods: ['GET', 'POST', 'PUT', 'DELETE'],
      allowedHeaders: ['content-type', 'x-auth-token'],
      // An OPTIONS that is not a preflight gets the plain answer, not a text/plain 400 outside the documented shape.
      strictPreflight: false,
    });
  }
  await app.register(fastifyStatic, {
    root: BUNDLE_DIR, prefix: '/sdk/', decorateReply: false,
    // The worker lives under /sdk/ but may control the whole origin's pages.
    setHeaders: (response) => response.setHeader('service-worker-allowed', '/'),
  });
  if (config.demoPrefix !== 'off') {
    const root = join(ROOT, 'api', 'demo');
    await app.register(fastifyStatic, { root, prefix: `${config.demoPrefix}/`, decorateReply: false, index: false });
    // The page at /demo/ (its scripts are relative); the router ignores trailing slashes, so
    // /demo reaches this route too and is redirected.
    const page = await readFile(join(root, 'index.html'));
    app.get(config.demoPrefix, {
      schema: { tags: ['browser'], summary: 'The demo page', response: { 200: { content: { 'text/html': { schema: { type: 'string' } } } }, 302: { description: 'To the page\'s URL with its slash.' } } },
    }, (request, reply) => request.url.split('?')[0].endsWith('/')
      ? reply.type('text/html; charset=utf-8').send(page)
      : reply.redirect(`${config.demoPrefix}/`));
  }
}
