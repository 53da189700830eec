import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON lines on stdout. Tokens never appear in logs: these paths are redacted wherever they occur. */
export function createLogger(name: string, level: string): Logger {
  return pino({
    name,
    level,
    base: { pid: process.pid },
    redact: { paths: ['token', '*.token', 'req.headers["x-auth-token"]'], censor: '[redacted]' },
    serializers: {
      req: (req: { method: string; url: string; ip?: string }) => ({ method: req.method, url: redactUrl(req.url), remoteAddress: req.ip }),
    },
  });
}

/** Tokens may ride in a query string (`GET /queue/?token=`); keep them out of logs. */
export function redactUrl(url: string): string {
  return url.replace(/([?&]token=)[^&]*/g, '$1[redacted]');
}
