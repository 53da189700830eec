/**
 * Catch-up pages as the gateway sends them: a read's messages already written as their dialect's
 * frames. Both stores have the database write them (SQLite on the embedded store's thread,
 * PostgreSQL in its backend), one row a page, so what reaches the event loop is text to send, not
 * a row per message to copy, make an object of and serialise there (BENCHMARKS.md, nineteenth
 * and twenty-first passes). `frameOf` is the text they write; pages they cannot write go through it.
 */
import type { Dialect } from '../../sdk/wire.js';
import { envelopeJson, toFrame, type StoredMessage } from '../message.js';
import type { ReadRequest, ReadResult } from './store.js';

/** A message's frame in each dialect: pushwire's typed frame, or the original's bare envelope. */
export const frameOf: Record<Dialect, (message: StoredMessage, publicUrl: string) => string> = {
  pushwire: toFrame,
  original: envelopeJson,
};

/** What a newer message replaces this one under, while both wait for a slow socket; null: never replaced. */
export function collapseKeyOf(message: Pick<StoredMessage, 'queue' | 'kind' | 'replaceId'>): string | null {
  return message.replaceId == null ? null : `${message.queue} ${message.kind} ${message.replaceId}`;
}

/** A read whose page is wanted as frames of `dialect`, their URLs under `publicUrl`. */
export interface FrameReadRequest extends ReadRequest {
  dialect: Dialect;
  publicUrl: string;
}

/** A read's page as frames, oldest first, with each frame's seq and collapse key; `more` and `truncated` as the read's. */
export interface FramePage {
  frames: string[];
  seqs: number[];
  /** Null when no message of the page collapses (most pages). */
  collapseKeys: (string | null)[] | null;
  more: boolean;
  truncated: boolean;
}

/** A read's result as its request's frames. */
export function framePage(result: ReadResult, request: FrameReadRequest): FramePage {
  const frame = frameOf[request.dialect];
  const { messages } = result;
  const collapses = messages.some((message) => message.replaceId != null);
  return {
    frames: messages.map((message) => frame(message, request.publicUrl)),
    seqs: messages.map((message) => message.seq),
    collapseKeys: collapses ? messages.map(collapseKeyOf) : null,
    more: result.more,
    truncated: result.truncated,
  };
}

/**
 * A page as it crosses between threads: its frames as one string, each followed by a newline but
 * the last, and their lengths. One string is one copy, and the frames taken out of it are slices
 * that share it, where an array of frames is a string to allocate and copy per frame. The
 * separator lets the embedded store have SQLite join a page's frames (see its `joinedFrames`);
 * the lengths, not the separators, say where a frame ends.
 */
export type JoinedFramePage = Omit<FramePage, 'frames'> & { text: string; lengths: number[] };

export function joinFrames({ frames, ...page }: FramePage): JoinedFramePage {
  return { ...page, text: frames.join('\n'), lengths: frames.map((frame) => frame.length) };
}

export function splitFrames({ text, lengths, ...page }: JoinedFramePage): FramePage {
  const frames = new Array<string>(lengths.length);
  let start = 0;
  for (let index = 0; index < lengths.length; index++) {
    frames[index] = text.slice(start, start + lengths[index]);
    start += lengths[index] + 1;
  }
  return { ...page, frames };
}
