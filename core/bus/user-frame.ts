import { StoredJsonMessage, type MessageKind, type StoredMessage } from '../message.js';
import { userTopic } from './bus.js';

/**
 * A stored message as it crosses ZeroMQ: one frame, its user's topic and then the fields, so
 * subscriptions (prefix matches on a message's first frame) still keep other users' messages
 * away. One frame instead of [topic, payload] halves what every hop handles a message: each
 * frame is a CURVE box of its own to seal and open at the api, the broker (twice) and the
 * gateway, and a message to queue at each. The fields are fixed-width numbers and strings with
 * their lengths, not a msgpack map: nothing to name, and the body (the JSON text the store kept)
 * is the frame's tail, copied once each way.
 *
 *   topic (u.<userId>.) | version 1 | userId f64 | seq f64 | micros f64 | kind u8 |
 *   queue length u32 | queue | replaceId length u32 (NONE: null) | replaceId | body JSON
 *
 * Numbers are little-endian doubles: ids, seqs and microseconds are integers below 2^53.
 */
const VERSION = 1;
/** A kind's number on the wire: a Record, so a kind added to MessageKind cannot be left out. */
const KIND_CODES: Record<MessageKind, number> = { message: 0, read: 1, marker: 2 };
const KINDS: MessageKind[] = [];
for (const [kind, code] of Object.entries(KIND_CODES)) KINDS[code] = kind as MessageKind;
const NONE = 0xffff_ffff;
/** Version and the three numbers, the kind and the two lengths. */
const FIXED = 1 + 3 * 8 + 1 + 4 + 4;

export function encodeUserFrame(message: StoredMessage): Buffer {
  const topic = userTopic(message.userId);
  const bodyJson = message.bodyJson ?? JSON.stringify(message.body);
  const { queue, replaceId } = message;
  const queueBytes = Buffer.byteLength(queue);
  const replaceBytes = replaceId === null ? 0 : Buffer.byteLength(replaceId);
  const frame = Buffer.allocUnsafe(topic.length + FIXED + queueBytes + replaceBytes + Buffer.byteLength(bodyJson));
  let at = frame.write(topic, 0, 'latin1');
  at = frame.writeUInt8(VERSION, at);
  at = frame.writeDoubleLE(message.userId, at);
  at = frame.writeDoubleLE(message.seq, at);
  at = frame.writeDoubleLE(message.micros, at);
  at = frame.writeUInt8(KIND_CODES[message.kind], at);
  at = frame.writeUInt32LE(queueBytes, at);
  at += frame.write(queue, at, 'utf8');
  at = frame.writeUInt32LE(replaceId === null ? NONE : replaceBytes, at);
  if (replaceId !== null) at += frame.write(replaceId, at, 'utf8');
  frame.write(bodyJson, at, 'utf8');
  return frame;
}

/** The message a frame carries; throws on a frame this version did not write. */
export function decodeUserFrame(frame: Buffer): StoredJsonMessage {
  // The topic ends at the '.' after its "u." and the user id.
  let at = frame.indexOf(0x2e, 2) + 1;
  if (at === 0 || frame.length < at + FIXED || frame[at] !== VERSION) throw new Error('not a user frame of this version');
  at += 1;
  const userId = frame.readDoubleLE(at);
  const seq = frame.readDoubleLE(at + 8);
  const micros = frame.readDoubleLE(at + 16);
  const kind = KINDS[frame[at + 24]];
  if (kind === undefined) throw new Error(`a user frame of no kind known (${frame[at + 24]})`);
  const queueEnd = at + 29 + frame.readUInt32LE(at + 25);
  const queue = frame.toString('utf8', at + 29, queueEnd);
  const replaceBytes = frame.readUInt32LE(queueEnd);
  const replaceEnd = queueEnd + 4 + (replaceBytes === NONE ? 0 : replaceBytes);
  if (replaceEnd > frame.length) throw new Error('a user frame cut short');
  const replaceId = replaceBytes === NONE ? null : frame.toString('utf8', queueEnd + 4, replaceEnd);
  return new StoredJsonMessage(userId, seq, queue, micros, kind, replaceId, frame.toString('utf8', replaceEnd));
}
