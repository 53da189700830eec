import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON lines on stdout. Tokens never appear in logs: these paths are redacted wherever they occur. */
export function createLogger(name: string, level: string): Logger {
  return pino({
    name,
    level,
    base: { pid: process.pid },
    redact: { paths: ['token', '*.token', 'req.headers["x-auth-token"]', 'req.query.token'], censor: '[redacted]' },
  });
}
