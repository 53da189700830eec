import t from 'tap';
import { AckBuffer } from '../gateway/ack-buffer.js';
import { LatencyWindow } from '../gateway/latency-window.js';
import { SettleSchedule } from '../gateway/settle-schedule.js';
import { ManualClock } from './helpers/manual-clock.js';

t.test('settle checks: each user at each delay after its own subscription, one timer for all', async (t) => {
  const clock = new ManualClock();
  const checks: [number, number[]][] = [];
  const start = clock.now();
  const schedule = new SettleSchedule([250, 1000], (ids) => checks.push([clock.now() - start, ids]), clock);
  schedule.add([1, 2]);
  clock.advance(100);
  schedule.add([3]);
  t.equal(clock.pending, 1, 'one timer, however many users wait');
  clock.advance(2000);
  t.same(checks, [[250, [1, 2]], [350, [3]], [1000, [1, 2]], [1100, [3]]], 'users 1 and 2 at 250 and 1000 ms, user 3 at its own 250 and 1000 ms');
  t.equal(clock.pending, 0, 'nothing left to check: no timer');

  checks.length = 0;
  schedule.add([4]);
  clock.advance(200);
  schedule.add([4]);
  clock.advance(2000);
  t.same(checks.map(([at]) => at - 2100), [450, 1200], 'subscribed again: its checks start again from then');

  schedule.add([5]);
  schedule.close();
  clock.advance(5000);
  t.same(checks.length, 2, 'closed: no more checks');
  t.equal(clock.pending, 0);
});

t.test('settle checks with no delays check nothing, and set no timer', async (t) => {
  const clock = new ManualClock();
  const checks: number[][] = [];
  const none = new SettleSchedule([], (ids) => checks.push(ids), clock);
  none.add([1, 2]);
  t.equal(clock.pending, 0, 'no timer');
  // The sentinel: a schedule with a delay, on the same clock, checks.
  const one = new SettleSchedule([10], (ids) => checks.push(ids), clock);
  one.add([3]);
  clock.advance(1000);
  t.same(checks, [[3]], 'only the schedule with a delay checked, once');
});

t.test('acks: the newest per user, handed over once and then forgotten', async (t) => {
  const acks = new AckBuffer();
  acks.record(1, 5);
  acks.record(1, 3);
  acks.record(2, 7);
  acks.record(1, 9);
  const written: [number, number][] = [];
  await acks.flush(async (userId, seq) => void written.push([userId, seq]));
  t.same(written, [[1, 9], [2, 7]]);
  await acks.flush(async (userId, seq) => void written.push([userId, seq]));
  t.equal(written.length, 2, 'nothing twice');
  acks.record(1, 2);
  await acks.flush(async (userId, seq) => void written.push([userId, seq]));
  t.same(written.at(-1), [1, 2], 'a later period starts afresh');
});

t.test('latency window: p99 of the period, then a new period; bounded', async (t) => {
  const window = new LatencyWindow(1000);
  t.equal(window.takeP99(), null, 'no samples, no figure');
  for (let ms = 1; ms <= 100; ms++) window.add(ms + 0.123);
  t.equal(window.takeP99(), 100.12);
  t.equal(window.takeP99(), null, 'a new period');
  for (let n = 0; n < 5000; n++) window.add(n < 1000 ? 1 : 999);
  t.equal(window.takeP99(), 1, 'samples past the bound are not kept');
});
