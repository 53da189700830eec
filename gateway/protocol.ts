import { z } from 'zod';
import { PushwireError } from '../core/errors.js';
import type { ClientFrame, ErrorFrame } from '../sdk/wire.js';

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
  JSON.stringify({ type: 'error', error: error.code, message: error.message } satisfies ErrorFrame);
