import t from 'tap';
import { metrics } from '../core/metrics.js';
import { Delivery, deliveryContexts, type DeliveryOptions, type History } from '../gateway/delivery.js';
import type { Clock } from '../gateway/clock.js';
import { FakeHistory, FakeSocket, settle } from './helpers/fake-delivery.js';
import { ManualClock } from './helpers/manual-clock.js';

const options = { publicUrl: 'http://x', softBackpressureBytes: 1000, maxPending: 5, fillBatch: 2, verifyGraceMs: 0, onError: () => {} };

/** A pushwire delivery's context, on real timers unless a clock is given. */
const contextOf = (history: History, deliveryOptions: DeliveryOptions, clock?: Clock) => deliveryContexts(history, deliveryOptions, clock).pushwire;

t.test('in order live messages go straight out; duplicates are skipped', async (t) => {
  const history = new FakeHistory();
  const socket = new FakeSocket();
  const delivery = new Delivery(1, socket, contextOf(history, options));
  await delivery.start(0, undefined, 10);
  for (const seq of [1, 2, 2, 1, 3]) delivery.offer(history.add(seq));
  t.same(socket.titles(), ['m1', 'm2', 'm3']);
  t.equal(history.reads, 0, 'no store read without a gap');
});

t.test('a gap on the bus is repaired from the store, in batches, before later messages', async (t) => {
  const history = new FakeHistory();
  const socket = new FakeSocket();
  const delivery = new Delivery(1, socket, contextOf(history, options));
  await delivery.start(0, undefined, 10);
  delivery.offer(history.add(1));
  for (const seq of [2, 3, 4, 5]) history.add(seq); // committed, but the bus dropped them
  delivery.offer(history.add(6));
  delivery.offer(history.add(7));
  await settle();
  await settle();
  await settle();
  t.same(socket.titles(), ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
  t.equal(delivery.sentSeq, 7);
});

t.test('messages that cross on the bus wait for each other a moment: no store read', async (t) => {
  const history = new FakeHistory();
  const socket = new FakeSocket();
  const delivery = new Delivery(1, socket, contextOf(history, { ...options, verifyGraceMs: 60_000 }));
  await delivery.start(0, undefined, 10);
  const [first, second, third] = [history.add(1), history.add(2), history.add(3)];
  delivery.offer(third);
  delivery.offer(second);
  t.same(socket.titles(), [], 'nothing out of order');
  delivery.offer(first);
  t.same(socket.titles(), ['m1', 'm2', 'm3'], 'all three once the first came');
  t.equal(history.reads, 0);
  t.ok(delivery.inSync, 'nothing left waiting');
  delivery.close(1000, 'done');
});

t.test('a gap the bus does not fill within the grace is read from the store', async (t) => {
  const history = new FakeHistory();
  const socket = new FakeSocket();
  const clock = new ManualClock();
  const delivery = new Delivery(1, socket, contextOf(history, { ...options, verifyGraceMs: 20 }, clock));
  await delivery.start(0, undefined, 10);
  delivery.offer(history.add(1));
  history.add(2); // committed, but the bus dropped it
  delivery.offer(history.add(3));
  t.same(socket.titles(), ['m1'], 'the later one waits');
  clock.advance(19);
  t.equal(history.reads, 0, 'no store read within the grace');
  clock.advance(1);
  await settle();
  t.same(socket.titles(), ['m1', 'm2', 'm3']);
  t.equal(history.reads, 1);
});

t.test('catch-up: live messages arriving during the store read are sent after it, once', async (t) => {
  const history = new FakeHistory();
  for (const seq of [1, 2, 3]) history.add(seq);
  const socket = new FakeSocket();
  const delivery = new Delivery(1, socket, contextOf(history, options));
  let open!: () => void;
  history.gate = new Promise((resolve) => { open = resolve; });
  const started = delivery.start(3, { seq: 1 }, 10);
  delivery.offer(history.rows[2]); // seq 3 also comes live during the read
  delivery.offer(history.add(4)); // committed after the read's snapshot
  open();
  await started;
  await settle();
  t.same(socket.titles(), ['m2', 'm3', 'm4']);
  t.match(socket.frames.find((f) => f.type === 'catchup'), { count: 3, more: false });
});

t.test('the store says we are behind: verify repairs', async (t) => {
  const history = new FakeHistory();
  const socket = new FakeSocket();
  const delivery = new Delivery(1, socket, contextOf(history, options));
  await delivery.start(0, undefined, 10);
  history.add(1);
  delivery.verify(1);
  await settle();
  t.same(socket.titles(), ['m1']);
});

t.test('behind the store only while the bus brings the message: no store read', async (t) => {
  const history = new FakeHistory();
  const socket = new FakeSocket();
  const clock = new ManualClock();
  const delivery = new Delivery(1, socket, contextOf(history, { ...options, verifyGraceMs: 50 }, clock));
  await delivery.start(0, undefined, 10);
  const inFlight = history.add(1);
  delivery.verify(1);
  delivery.offer(inFlight);
  const lost = history.add(2);
  delivery.verify(2);
  t.same(socket.titles(), ['m1'], 'the lost one waits out the grace');
  clock.advance(50);
  await settle();
  t.same(socket.titles(), ['m1', 'm2'], 'the one in flight came over the bus, the one the bus lost from the store');
  t.equal(history.reads, 1, 'one store read, for the lost one only');
  delivery.offer(lost);
  t.same(socket.titles(), ['m1', 'm2'], 'the late bus copy is not sent twice');
});

t.test('behind the store while the bus still brings older messages: no store read for what it brings', async (t) => {
  const history = new FakeHistory();
  const socket = new FakeSocket();
  const clock = new ManualClock();
  const delivery = new Delivery(1, socket, contextOf(history, { ...options, verifyGraceMs: 50 }, clock));
  await delivery.start(0, undefined, 10);
  const [first, second] = [history.add(1), history.add(2)];
  let onTheBus = true;
  delivery.verify(2, () => onTheBus);
  clock.advance(500);
  t.equal(history.reads, 0, 'no store read while the bus says they are on their way');
  delivery.offer(first);
  delivery.offer(second);
  t.same(socket.titles(), ['m1', 'm2'], 'the bus brought both');
  const lost = history.add(3);
  delivery.verify(3, () => onTheBus);
  clock.advance(500);
  t.equal(history.reads, 0, 'the next one is still on its way');
  onTheBus = false;
  clock.advance(50);
  await settle();
  t.same(socket.titles(), ['m1', 'm2', 'm3'], 'once the bus has passed the check, what it did not bring comes from the store');
  t.equal(history.reads, 1);
  delivery.offer(lost);
  t.same(socket.titles(), ['m1', 'm2', 'm3'], 'a late bus copy is not sent twice');
});

t.test('a bus that keeps saying the messages are on their way is waited for 5 s at most', async (t) => {
  const history = new FakeHistory();
  const socket = new FakeSocket();
  const clock = new ManualClock();
  const delivery = new Delivery(1, socket, contextOf(history, { ...options, verifyGraceMs: 50 }, clock));
  await delivery.start(0, undefined, 10);
  history.add(1);
  delivery.verify(1, () => true);
  clock.advance(4950);
  t.equal(history.reads, 0, 'waiting within the limit');
  clock.advance(50);
  await settle();
  t.same(socket.titles(), ['m1'], 'read from the store at the limit');
  t.equal(history.reads, 1);
});

t.test('slow socket: waiting messages collapse by replaceId, then the socket is closed past the limit', async (t) => {
  const history = new FakeHistory();
  const socket = new FakeSocket();
  const delivery = new Delivery(1, socket, contextOf(history, options));
  await delivery.start(0, undefined, 10);
  socket.buffered = 5000;
  delivery.offer(history.add(1, 'score'));
  delivery.offer(history.add(2, 'score'));
  delivery.offer(history.add(3));
  delivery.offer(history.add(4, 'score'));
  t.equal(delivery.waiting, 2, 'three score updates wait as one');
  socket.buffered = 0;
  delivery.drain();
  t.same(socket.titles(), ['m3', 'm4']);
  socket.buffered = 5000;
  for (let seq = 5; seq <= 11; seq++) delivery.offer(history.add(seq));
  t.equal(socket.closedWith, 4008, 'closed as a slow consumer');
});

t.test('every frame written is counted in pushwire_messages_delivered_total, by path', async (t) => {
  const counted = async () => Object.fromEntries((await metrics.delivered.get()).values.map((value) => [value.labels.path, value.value]));
  const before = await counted();
  const history = new FakeHistory();
  for (const seq of [1, 2, 3]) history.add(seq);
  const socket = new FakeSocket();
  const delivery = new Delivery(1, socket, contextOf(history, options));
  await delivery.start(3, { seq: 1 }, 10); // catch-up: 2 and 3
  delivery.offer(history.add(4)); // live
  history.add(5); // the bus dropped it: repaired from the store
  delivery.offer(history.add(6));
  await settle();
  await settle();
  t.same(socket.titles(), ['m2', 'm3', 'm4', 'm5', 'm6']);
  const after = await counted();
  t.same(['catchup', 'live', 'repair'].map((path) => (after[path] ?? 0) - (before[path] ?? 0)), [2, 2, 1]);
});
