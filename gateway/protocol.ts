import { z } from 'zod';
import { PushwireError } from '../core/errors.js';

/**
 * Websocket close codes. 1001, 1011, 4002 and 4008 mean "reconnect (to any node) and resume
 * with `since`"; 4001 and 4003 mean "do not retry as is: fix the token or the client".
 */
export const CloseCode = {
  goingAway: 1001,
  tooLarge: 1009,
  internal: 1011,
  authFailed: 4001,
  authTimeout: 4002,
  protocolError: 4003,
  slowConsumer: 4008,
} as const;

const position = z.string().min(1).max(64);

const authFrame = z.object({
  type: z.literal('auth').default('auth'),
  token: z.string().min(1).max(128),
  since: position.optional(),
  limit: z.number().int().positive().optional(),
});

const clientFrame = z.discriminatedUnion('type', [
  authFrame,
  z.object({ type: z.literal('ack'), key: z.string().min(1).max(64) }),
  z.object({ type: z.literal('fetch'), since: position.optional(), limit: z.number().int().positive().optional() }),
  z.object({ type: z.literal('ping') }),
]);

/** Everything a client may send. Before authentication only `auth` is accepted. */
export type ClientFrame = z.output<typeof clientFrame>;

const TEXT_AUTH = /^token:\s*(\S+)\s*$/;

/** Parses one client frame: the seed's `token: T` text form, or a JSON object (`type` defaults to auth). */
export function parseClientFrame(text: string): ClientFrame {
  const seedAuth = TEXT_AUTH.exec(text);
  if (seedAuth) return { type: 'auth', token: seedAuth[1] };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new PushwireError('bad_request', 'A frame is JSON or `token: TOKEN`.');
  }
  if (json && typeof json === 'object' && !('type' in json)) json = { ...json, type: 'auth' };
  const parsed = clientFrame.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.join('.');
    const code = field === 'limit' ? 'bad_limit' : field === 'since' ? 'bad_since' : 'bad_request';
    throw new PushwireError(code, `${field || 'frame'}: ${issue.message}`);
  }
  return parsed.data;
}

export const errorFrame = (error: PushwireError): string =>
  JSON.stringify({ type: 'error', error: error.code, message: error.message });
