import t from 'tap';
import { retryDelayMs } from '../pusher/worker.js';

t.test('exponential backoff with full jitter, capped, never under Retry-After', async (t) => {
  const top = () => 1;
  t.equal(retryDelayMs(1, 600_000, 0, top), 1000, 'first retry: up to 1 s');
  t.equal(retryDelayMs(2, 600_000, 0, top), 2000);
  t.equal(retryDelayMs(5, 600_000, 0, top), 16_000);
  t.equal(retryDelayMs(30, 600_000, 0, top), 600_000, 'capped');
  t.equal(retryDelayMs(3, 600_000, 0, () => 0.5), 2000, 'jitter spreads over [0, ceiling]');
  t.equal(retryDelayMs(3, 600_000, 0, () => 0), 100, 'but never a hot loop');
  t.equal(retryDelayMs(1, 600_000, 30_000, top), 30_000, 'Retry-After wins when longer');
});
