import { z } from 'zod';
import { PushwireError } from '../core/errors.js';
import type { AuthFrame, ClientFrame, ErrorFrame } from '../sdk/wire.js';

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

/**
 * One client frame as a session first sees it: the original protocol's `token: T`, a JSON frame
 * (`type` defaults to auth; a bad one throws the code to answer), or text that is neither, which
 * a client of the original may send and which it ignored.
 */
export type IncomingFrame = { kind: 'text-auth'; frame: AuthFrame } | { kind: 'json'; frame: ClientFrame } | { kind: 'unknown' };

export function readClientFrame(text: string): IncomingFrame {
  const textAuth = TEXT_AUTH.exec(text);
  if (textAuth) return { kind: 'text-auth', frame: { type: 'auth', token: textAuth[1] } };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: 'unknown' };
  }
  if (json && typeof json === 'object' && !('type' in json)) json = { ...json, type: 'auth' };
  const parsed = clientFrame.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.join('.');
    const code = field === 'limit' ? 'bad_limit' : field === 'since' ? 'bad_since' : 'bad_request';
    throw new PushwireError(code, `${field || 'frame'}: ${issue.message}`);
  }
  return { kind: 'json', frame: parsed.data };
}

export const errorFrame = (error: PushwireError): string =>
  JSON.stringify({ type: 'error', error: error.code, message: error.message } satisfies ErrorFrame);
