import type { StoredMessage } from '../../core/message.js';
import { framePage, type FramePage, type FrameReadRequest } from '../../core/store/frame-page.js';
import type { RangeRequest } from '../../core/store/store.js';
import type { MemberSocket } from '../../gateway/connection.js';
import type { History } from '../../gateway/delivery.js';

/** A user's stored sequence in memory, standing in for the store in these unit tests. */
export class FakeHistory implements History {
  rows: StoredMessage[] = [];
  reads = 0;
  gate: Promise<void> = Promise.resolve();
  /** Store reads that fail next (the store is unavailable). */
  failures = 0;

  add(seq: number, replaceId: string | null = null): StoredMessage {
    const row: StoredMessage = { userId: 1, seq, queue: 'q', micros: seq, kind: 'message', replaceId, body: { title: `m${seq}` } };
    this.rows.push(row);
    return row;
  }

  async readFrames(request: FrameReadRequest): Promise<FramePage> {
    this.reads++;
    await this.gate;
    this.failIfDown();
    const after = request.since && 'seq' in request.since ? request.since.seq : 0;
    const rows = this.rows.filter((row) => row.seq > after);
    const page = rows.slice(0, request.limit);
    return framePage({ messages: page, more: rows.length > request.limit, truncated: false }, request);
  }

  async range({ afterSeq, uptoSeq, max }: RangeRequest): Promise<StoredMessage[]> {
    this.reads++;
    await this.gate;
    this.failIfDown();
    return this.rows.filter((row) => row.seq > afterSeq && row.seq <= uptoSeq).slice(0, max);
  }

  private failIfDown(): void {
    if (this.failures === 0) return;
    this.failures--;
    throw new Error('store unavailable');
  }
}

/** A socket as a delivery sees it; its frames are kept parsed, and the topics it joined named. */
export class FakeSocket implements MemberSocket {
  frames: Record<string, unknown>[] = [];
  readonly topics = new Set<string>();
  buffered = 0;
  closedWith: number | null = null;
  send(frame: string): void {
    this.frames.push(JSON.parse(frame));
  }
  batch(sends: () => void): void {
    sends();
  }
  bufferedAmount(): number {
    return this.buffered;
  }
  close(code: number): void {
    this.closedWith = code;
  }
  subscribe(topic: string): void {
    this.topics.add(topic);
  }
  unsubscribe(topic: string): void {
    this.topics.delete(topic);
  }
  readonly receivers = 1;
  /** The titles of the messages received, in order (pushwire frames have type message; the original's are bare envelopes). */
  titles(): string[] {
    return this.frames.filter((f) => f.type === 'message' || (f.type === undefined && 'body' in f)).map((f) => (f.body as { title: string }).title);
  }
}

/** Lets the promise callbacks queued so far run (a fake store read answers within one turn). */
export const settle = () => new Promise((resolve) => setImmediate(resolve));

/** Server-side topics as uWS keeps them: a publish reaches every socket subscribed at that moment. */
export class FakeTopics {
  readonly published: { topic: string; title: string }[] = [];
  constructor(private readonly sockets: FakeSocket[]) {}

  publish(topic: string, frame: string): void {
    this.published.push({ topic, title: (JSON.parse(frame) as { body: { title: string } }).body.title });
    for (const socket of this.sockets) if (socket.topics.has(topic)) socket.send(frame);
  }

  titles(topic: string): string[] {
    return this.published.filter((entry) => entry.topic === topic).map((entry) => entry.title);
  }
}
