import t from 'tap';
import type { StoredMessage } from '../core/message.js';
import type { RangeRequest, ReadRequest, ReadResult } from '../core/store/store.js';
import { Connection, type History, type Socket } from '../gateway/connection.js';
import { eventually } from './helpers/client.js';

/** A user's stored sequence in memory, standing in for the store in these unit tests. */
class FakeHistory implements History {
  rows: StoredMessage[] = [];
  reads = 0;
  gate: Promise<void> = Promise.resolve();

  add(seq: number, replaceId: string | null = null): StoredMessage {
    const row: StoredMessage = { userId: 1, seq, queue: 'q', micros: seq, kind: 'message', replaceId, body: { title: `m${seq}` } };
    this.rows.push(row);
    return row;
  }

  async read(request: ReadRequest): Promise<ReadResult> {
    this.reads++;
    await this.gate;
    const after = request.since && 'seq' in request.since ? request.since.seq : 0;
    const rows = this.rows.filter((row) => row.seq > after);
    const page = rows.slice(0, request.limit);
    return { messages: page, more: rows.length > request.limit, truncated: false };
  }

  async range({ afterSeq, uptoSeq, max }: RangeRequest): Promise<StoredMessage[]> {
    this.reads++;
    await this.gate;
    return this.rows.filter((row) => row.seq > afterSeq && row.seq <= uptoSeq).slice(0, max);
  }
}

class FakeSocket implements Socket {
  frames: Record<string, unknown>[] = [];
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
  subscribe(): void {}
  unsubscribe(): void {}
  readonly receivers = 1;
  titles(): string[] {
    return this.frames.filter((f) => f.type === 'message').map((f) => (f.body as { title: string }).title);
  }
}

const options = { publicUrl: 'http://x', softBackpressureBytes: 1000, maxPending: 5, fillBatch: 2, verifyGraceMs: 0, onError: () => {} };
const settle = () => new Promise((resolve) => setImmediate(resolve));

t.test('in order live messages go straight out; duplicates are skipped', async (t) => {
  const history = new FakeHistory();
  const socket = new FakeSocket();
  const connection = new Connection(1, socket, history, options);
  await connection.start(0, undefined, 10);
  for (const seq of [1, 2, 2, 1, 3]) connection.offer(history.add(seq));
  t.same(socket.titles(), ['m1', 'm2', 'm3']);
  t.equal(history.reads, 0, 'no store read without a gap');
});

t.test('a gap on the bus is repaired from the store, in batches, before later messages', async (t) => {
  const history = new FakeHistory();
  const socket = new FakeSocket();
  const connection = new Connection(1, socket, history, options);
  await connection.start(0, undefined, 10);
  connection.offer(history.add(1));
  for (const seq of [2, 3, 4, 5]) history.add(seq); // committed, but the bus dropped them
  connection.offer(history.add(6));
  connection.offer(history.add(7));
  await settle();
  await settle();
  await settle();
  t.same(socket.titles(), ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
  t.equal(connection.lastSeq, 7);
});

t.test('messages that cross on the bus wait for each other a moment: no store read', async (t) => {
  const history = new FakeHistory();
  const socket = new FakeSocket();
  const connection = new Connection(1, socket, history, { ...options, verifyGraceMs: 60_000 });
  await connection.start(0, undefined, 10);
  const [first, second, third] = [history.add(1), history.add(2), history.add(3)];
  connection.offer(third);
  connection.offer(second);
  t.same(socket.titles(), [], 'nothing out of order');
  connection.offer(first);
  t.same(socket.titles(), ['m1', 'm2', 'm3'], 'all three once the first came');
  t.equal(history.reads, 0);
  t.ok(connection.inSync, 'nothing left waiting');
  connection.close(1000, 'done');
});

t.test('a gap the bus does not fill within the grace is read from the store', async (t) => {
  const history = new FakeHistory();
  const socket = new FakeSocket();
  const connection = new Connection(1, socket, history, { ...options, verifyGraceMs: 20 });
  await connection.start(0, undefined, 10);
  connection.offer(history.add(1));
  history.add(2); // committed, but the bus dropped it
  connection.offer(history.add(3));
  t.same(socket.titles(), ['m1'], 'the later one waits');
  await eventually(() => socket.titles().length === 3);
  t.same(socket.titles(), ['m1', 'm2', 'm3']);
  t.equal(history.reads, 1);
});

t.test('catch-up: live messages arriving during the store read are sent after it, once', async (t) => {
  const history = new FakeHistory();
  for (const seq of [1, 2, 3]) history.add(seq);
  const socket = new FakeSocket();
  const connection = new Connection(1, socket, history, options);
  let open!: () => void;
  history.gate = new Promise((resolve) => { open = resolve; });
  const started = connection.start(3, { seq: 1 }, 10);
  connection.offer(history.rows[2]); // seq 3 also comes live during the read
  connection.offer(history.add(4)); // committed after the read's snapshot
  open();
  await started;
  await settle();
  t.same(socket.titles(), ['m2', 'm3', 'm4']);
  t.match(socket.frames.find((f) => f.type === 'catchup'), { count: 3, more: false });
});

t.test('the store says we are behind: verify repairs', async (t) => {
  const history = new FakeHistory();
  const socket = new FakeSocket();
  const connection = new Connection(1, socket, history, options);
  await connection.start(0, undefined, 10);
  history.add(1);
  connection.verify(1);
  await settle();
  t.same(socket.titles(), ['m1']);
});

t.test('behind the store only while the bus brings the message: no store read', async (t) => {
  const history = new FakeHistory();
  const socket = new FakeSocket();
  const connection = new Connection(1, socket, history, { ...options, verifyGraceMs: 50 });
  await connection.start(0, undefined, 10);
  const inFlight = history.add(1);
  connection.verify(1);
  connection.offer(inFlight);
  const lost = history.add(2);
  connection.verify(2);
  await eventually(() => socket.titles().length === 2);
  t.same(socket.titles(), ['m1', 'm2'], 'the one in flight came over the bus, the one the bus lost from the store');
  t.equal(history.reads, 1, 'one store read, for the lost one only');
  connection.offer(lost);
  t.same(socket.titles(), ['m1', 'm2'], 'the late bus copy is not sent twice');
});

t.test('slow socket: waiting messages collapse by replaceId, then the socket is closed past the limit', async (t) => {
  const history = new FakeHistory();
  const socket = new FakeSocket();
  const connection = new Connection(1, socket, history, options);
  await connection.start(0, undefined, 10);
  socket.buffered = 5000;
  connection.offer(history.add(1, 'score'));
  connection.offer(history.add(2, 'score'));
  connection.offer(history.add(3));
  connection.offer(history.add(4, 'score'));
  t.equal(connection.waiting, 2, 'three score updates wait as one');
  socket.buffered = 0;
  connection.drain();
  t.same(socket.titles(), ['m3', 'm4']);
  socket.buffered = 5000;
  for (let seq = 5; seq <= 11; seq++) connection.offer(history.add(seq));
  t.equal(socket.closedWith, 4008, 'closed as a slow consumer');
});
