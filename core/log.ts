import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * JSON lines on stdout. Secrets never appear in logs: tokens are redacted wherever these paths
 * occur, and a request is logged by its route's pattern (`/queue/:queue/`), never its URL,
 * whose path holds queue names (the secret a publisher holds) and whose query may hold tokens.
 */
export function createLogger(name: string, level: string): Logger {
  return pino({
    name,
    level,
    base: { pid: process.pid },
    redact: { paths: ['token', '*.token', 'req.headers["x-auth-token"]'], censor: '[redacted]' },
    serializers: {
      req: (req: { method: string; ip?: string; routeOptions?: { url?: string } }) => ({ method: req.method, route: req.routeOptions?.url ?? '(no route)', remoteAddress: req.ip }),
    },
  });
}

