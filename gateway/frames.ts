import type { StoredMessage } from '../core/message.js';
import { frameOf } from '../core/store/frame-page.js';
import type { ControlFrame, Dialect } from '../sdk/wire.js';

/** How a dialect writes messages and control frames to its sockets. */
export interface FrameFormat {
  readonly dialect: Dialect;
  /** A message's frame. `shared`: the same message goes to every socket of its user now (a live one): made once. */
  message(message: StoredMessage, publicUrl: string, shared: boolean): string;
  /** A control frame's text, or null where the dialect has none (the original protocol sends messages only). */
  control(frame: ControlFrame): string | null;
  /** The client asks for each further catch-up page (`fetch`); otherwise the gateway sends them all. */
  readonly clientPages: boolean;
}

/**
 * A bus message reaches every socket of its user as the same object, one socket after another in
 * the hub's one loop: serialise it once. The last one only (a WeakMap of every message cost the
 * garbage collector an ephemeron per message).
 */
function lastOnly(serialise: (message: StoredMessage, publicUrl: string) => string) {
  let lastMessage: StoredMessage | null = null;
  let lastText = '';
  return (message: StoredMessage, publicUrl: string, shared: boolean): string => {
    if (!shared) return serialise(message, publicUrl);
    if (lastMessage !== message) {
      lastText = serialise(message, publicUrl);
      lastMessage = message;
    }
    return lastText;
  };
}

export const pushwireFrames: FrameFormat = {
  dialect: 'pushwire',
  message: lastOnly(frameOf.pushwire),
  control: (frame) => JSON.stringify(frame),
  clientPages: true,
};

export const originalFrames: FrameFormat = {
  dialect: 'original',
  message: lastOnly(frameOf.original),
  control: () => null,
  clientPages: false,
};

export const framesOf: Record<Dialect, FrameFormat> = { pushwire: pushwireFrames, original: originalFrames };
