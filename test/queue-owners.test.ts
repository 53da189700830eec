import t from 'tap';
import { startApi } from '../api/server.js';
import { QueueOwners } from '../api/queue-owners.js';
import { openBackends } from '../core/backends.js';
import { loadConfig } from '../core/config.js';
import { createLogger } from '../core/log.js';
import type { Queue } from '../core/store/store.js';
import { Http } from './helpers/client.js';
import { freePorts } from './helpers/ports.js';
import { createDatabase, redisPrefix, TEST_REDIS_URL } from './helpers/services.js';

const log = createLogger('test', 'silent');

t.test('two api processes cache a queue\'s owner; deleting it through one stops publishes through both', async (t) => {
  const database = await createDatabase();
  t.teardown(() => database.drop());
  const prefix = redisPrefix();
  const [brokerInPort, ...apiPorts] = await freePorts(3);
  const apis = [];
  /** Each api's owner lookups in its store, by queue name. */
  const lookups: string[][] = [];
  for (const apiPort of apiPorts) {
    const config = loadConfig({
      PUSHWIRE_PROFILE: 'test', DATABASE_URL: database.url, REDIS_URL: TEST_REDIS_URL, PUSHWIRE_REDIS_PREFIX: prefix,
      PUSHWIRE_API_PORT: String(apiPort), PUSHWIRE_BROKER_IN_PORT: String(brokerInPort), PUSHWIRE_LOG_LEVEL: 'silent',
      // No broker runs here: the api's bus publisher only needs to exist.
      PUSHWIRE_BUS_SECURITY: 'plain',
    });
    const backends = await openBackends(config, log, 'api');
    const looked: string[] = [];
    lookups.push(looked);
    const queuesByNames = backends.store.queuesByNames.bind(backends.store);
    backends.store.queuesByNames = (names) => {
      looked.push(...names);
      return queuesByNames(names);
    };
    const api = await startApi(config, backends, log);
    t.teardown(async () => {
      await api.close();
      await backends.close();
    });
    apis.push(new Http(api.url));
  }
  const [first, second] = apis;
  const { token, own, queue } = await first.user('cached.example');
  const path = new URL(queue).pathname;
  for (const api of apis) t.equal((await api.request('POST', path, { json: { title: 'cached' } })).status, 200);
  t.equal((await first.request('POST', new URL(own).pathname, { json: { title: 'own' } })).status, 200);
  const name = (url: string) => new URL(url).pathname.split('/')[2];
  t.same(lookups, [[], [name(queue)]], 'the api that created both queues knew their owner; the other looked it up once');
  t.equal((await first.request('DELETE', `${path}?token=${token}`)).status, 200);
  for (const api of [second, first, second]) {
    const gone = await api.request('POST', path, { json: { title: 'after delete' } });
    t.same([gone.status, gone.body.error], [404, 'queue_not_found'], 'the store refused the append; the owner is forgotten');
  }
  const batch = await second.request<{ results: { error?: string }[] }>('POST', '/publish', { json: { messages: [{ queue, message: { title: 'x' } }] } });
  t.equal(batch.body.results[0].error, 'queue_not_found', 'and through the batch route');
});

t.test('lookups in one turn share one query; at most `capacity` owners are kept, least recently used out first', async (t) => {
  const queries: string[][] = [];
  const queue = (name: string, id: number): Queue => ({ id, name, userId: id * 10, domain: null, readMicros: null });
  const store = {
    queuesByNames: async (names: readonly string[]) => {
      queries.push([...names]);
      return new Map(names.filter((name) => name !== 'missing').map((name, i) => [name, queue(name, i + 1)]));
    },
  };
  const owners = new QueueOwners(store, 2);
  const [a, b, missing] = await Promise.all([owners.get('a'), owners.get('b'), owners.get('missing')]);
  t.same(queries, [['a', 'b', 'missing']], 'one query');
  t.same([a?.userId, b?.userId, missing], [10, 20, undefined]);
  await owners.get('a');
  t.equal(queries.length, 1, 'a cached owner costs no query');
  await owners.get('missing');
  t.equal(queries.length, 2, 'an unknown queue is not cached: it may not exist yet');
  await owners.get('c');
  await owners.get('a');
  t.equal(queries.length, 3, 'a, used last, was kept');
  await owners.get('b');
  t.same(queries.at(-1), ['b'], 'b, least recently used, made room for c');
  owners.forget('a');
  await owners.get('a');
  t.same(queries.at(-1), ['a'], 'forgotten: looked up again');
});
