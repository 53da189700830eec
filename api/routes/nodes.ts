import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.js';
import { object } from '../schemas.js';

export function nodeRoutes(app: FastifyInstance, { config, nodes }: ApiContext): void {
  /** Live gateways' host:port, least loaded first; a client tries them in order. */
  app.get('/nodes/', {
    schema: {
      tags: ['operations'], summary: 'Live gateways, least loaded first',
      response: { 200: object({ nodes: { type: 'array', items: { type: 'string', description: 'host:port, or the ws:// or wss:// URL a gateway advertises (behind a reverse proxy).' } } }) },
    },
  }, async () => {
    const freshAfter = Date.now() - config.nodeTimeoutMs;
    const live = (await nodes.list()).filter((node) => node.lastSeen >= freshAfter && !node.leaving);
    const load = new Map<string, number>();
    // Several gateway processes may share one address (SO_REUSEPORT): list it once, with their total load.
    for (const node of live) load.set(node.address, (load.get(node.address) ?? 0) + node.connections);
    return { nodes: [...load.entries()].sort((a, b) => a[1] - b[1]).map(([address]) => address) };
  });

}
