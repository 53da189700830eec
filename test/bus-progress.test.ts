import t from 'tap';
import { BusProgress } from '../gateway/bus-progress.js';
import { ManualClock } from './helpers/manual-clock.js';

t.test('a flowing bus that has brought only messages stored before a check may still bring the rest', async (t) => {
  const clock = new ManualClock();
  const bus = new BusProgress(200, clock);
  bus.brought((clock.now() - 1500) * 1000);
  const checkedAt = bus.now();
  clock.advance(100);
  bus.brought((clock.now() - 1400) * 1000);
  t.equal(bus.mayStillBring(checkedAt), true, 'running 1.4 s behind, it has not reached the check');
  bus.brought(checkedAt * 1000);
  t.equal(bus.mayStillBring(checkedAt), false, 'once it brings a message stored at the check, what is missing was dropped');
  t.equal(bus.mayStillBring(checkedAt + 10), true, 'a later check is still ahead of it');
});

t.test('a bus that brings nothing is not bringing what is missing', async (t) => {
  const clock = new ManualClock();
  const bus = new BusProgress(200, clock);
  t.equal(bus.mayStillBring(bus.now()), false, 'nothing ever came');
  bus.brought((clock.now() - 1000) * 1000);
  const checkedAt = bus.now();
  clock.advance(199);
  t.equal(bus.mayStillBring(checkedAt), true, 'its last message came within the flowing time');
  clock.advance(1);
  t.equal(bus.mayStillBring(checkedAt), false, 'quiet for the flowing time: what is missing was dropped');
});
