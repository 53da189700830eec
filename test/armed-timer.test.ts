import t from 'tap';
import { ArmedTimer } from '../gateway/armed-timer.js';
import { ManualClock } from './helpers/manual-clock.js';

t.test('armed many times, runs once, the period after the first arming', async (t) => {
  const clock = new ManualClock();
  let runs = 0;
  const timer = new ArmedTimer(50, () => runs++, clock);
  t.equal(clock.pending, 0, 'nothing armed: no timer at all');
  timer.arm();
  clock.advance(30);
  timer.arm();
  timer.arm();
  t.equal(clock.pending, 1, 'one timer for all three');
  clock.advance(19);
  t.equal(runs, 0);
  clock.advance(1);
  t.equal(runs, 1, 'ran 50 ms after the first arming');
  t.equal(clock.pending, 0, 'and left no timer behind');
  timer.arm();
  clock.advance(50);
  t.equal(runs, 2, 'armed again, runs again');
});

t.test('stopped, it does not run', async (t) => {
  const clock = new ManualClock();
  let runs = 0;
  const timer = new ArmedTimer(50, () => runs++, clock);
  timer.arm();
  timer.stop();
  t.equal(clock.pending, 0, 'its timer is cleared');
  clock.advance(100);
  t.equal(runs, 0);
  timer.arm();
  clock.advance(50);
  t.equal(runs, 1, 'and can be armed again');
});
