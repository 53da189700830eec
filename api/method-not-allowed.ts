import type { FastifyInstance } from 'fastify';

/**
 * Which methods each route path takes, so a request for a known path with another method is
 * answered 405 with `Allow` (as the original Mozilla service answered, e.g. GET /token/), not a
 * 404 that says the path does not exist. Fed by every route as it is added.
 */
export class AllowedMethods {
  private readonly paths = new Map<string, { pattern: RegExp; methods: Set<string> }>();

  constructor(app: FastifyInstance) {
    app.addHook('onRoute', (route) => {
      // Catch-alls (CORS preflights, static files) say nothing about a path's methods.
      if (route.url.includes('*')) return;
      const entry = this.paths.get(route.url) ?? { pattern: patternOf(route.url), methods: new Set<string>() };
      for (const method of [route.method].flat()) entry.methods.add(method);
      this.paths.set(route.url, entry);
    });
  }

  /** The methods the path takes, sorted; empty when no route has this path. */
  of(path: string): string[] {
    const methods = new Set<string>();
    for (const { pattern, methods: taken } of this.paths.values()) if (pattern.test(path)) taken.forEach((method) => methods.add(method));
    return [...methods].sort();
  }
}

/** A route's URL (`/queue/:queue/`) as a pattern for concrete paths, trailing slash optional (the router ignores it). */
function patternOf(url: string): RegExp {
  const escaped = url.replace(/\/$/, '').replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z_]+/g, '[^/]+');
  return new RegExp(`^${escaped}/?$`);
}
