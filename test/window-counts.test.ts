import { Redis } from 'ioredis';
import t from 'tap';
import { createLogger, type Logger } from '../core/log.js';
import { WindowCounts } from '../core/window-counts.js';
import { eventually, freshMinute } from './helpers/client.js';
import { redisPrefix, TEST_REDIS_URL } from './helpers/services.js';

const log = createLogger('test', 'silent');

t.test('alone: a process counts for itself, per key', async (t) => {
  await freshMinute();
  const counts = new WindowCounts('alone', null, log);
  t.teardown(() => counts.close());
  t.equal(counts.add('a'), 1);
  t.equal(counts.add('a'), 2);
  t.equal(counts.add('b'), 1);
  t.equal(counts.get('a'), 2);
  t.equal(counts.get('c'), 0);
  t.ok(counts.secondsLeft >= 1 && counts.secondsLeft <= 60, `${counts.secondsLeft} s left in the window`);
});

t.test('with Redis: processes see each other\'s counts within seconds, whether they count a key or only ask about it', async (t) => {
  await freshMinute();
  const redis = new Redis(TEST_REDIS_URL);
  const prefix = redisPrefix();
  t.teardown(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });
  const [first, second, asking] = [0, 1, 2].map(() => new WindowCounts('shared', { redis, prefix }, log));
  t.teardown(() => [first, second, asking].forEach((counts) => counts.close()));
  for (let n = 0; n < 6; n++) first.add('queue-1');
  for (let n = 0; n < 4; n++) second.add('queue-1');
  second.add('queue-2');
  t.equal(first.get('queue-1'), 6, 'at first each knows its own');
  t.equal(asking.get('queue-1'), 0, 'and a process that counted nothing knows nothing yet');
  await eventually(() => first.get('queue-1') === 10 && second.get('queue-1') === 10);
  t.pass('both counting processes see 10');
  await eventually(() => asking.get('queue-1') === 10);
  t.pass('the process that only asks sees 10');
  await eventually(() => first.get('queue-2') === 1);
  t.equal(first.get('queue-1'), 10, 'keys are counted apart');
  t.equal(first.add('queue-1'), 11, 'counting goes on from the shared total');
  await eventually(() => second.get('queue-1') === 11);
  t.pass('and reaches the others');
});

t.test('with Redis down: each process goes on counting for itself', async (t) => {
  await freshMinute();
  const redis = new Redis('redis://127.0.0.1:1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  redis.on('error', () => {});
  t.teardown(() => redis.disconnect());
  const warnings: string[] = [];
  const watching = { warn: (_fields: unknown, message: string) => warnings.push(message) } as unknown as Logger;
  const counts = new WindowCounts('down', { redis, prefix: redisPrefix() }, watching);
  t.teardown(() => counts.close());
  for (let n = 0; n < 3; n++) counts.add('k');
  await eventually(() => warnings.length > 0);
  t.match(warnings[0], /could not share/, 'the failed share is reported');
  t.equal(counts.get('k'), 3, 'and its counts are kept as this process\'s own');
  t.equal(counts.add('k'), 4);
  t.equal(warnings.length, 1, 'reported once, not every second');
});
