import t from 'tap';
import { Http, WsClient, sleep } from './helpers/client.js';
import { startEmbedded, type System } from './helpers/system.js';

// A system with a tiny backlog and a fast sweep, to watch retention work end to end.
let system: System;
t.before(async () => {
  system = await startEmbedded({ PUSHWIRE_QUEUE_BACKLOG: '3', PUSHWIRE_RETENTION_SWEEP_MS: '200' });
});
t.teardown(() => system?.stop());

t.test('a queue keeps its backlog; catch-up from before it says truncated', async (t) => {
  const api = new Http(system.apiUrl);
  const { token, queue } = await api.user();
  const sent = [];
  for (let i = 1; i <= 6; i++) sent.push(await api.publish(queue, { title: `m${i}` }));
  await sleep(600);
  const path = new URL(queue).pathname;
  const http = await api.request<{ messages: { key: string }[]; truncated: boolean }>('GET', `${path}?since=${sent[0].key}`, { headers: { 'x-auth-token': token } });
  t.same(http.body.messages.map((m) => m.key), sent.slice(3).map((m) => m.key), 'the newest three remain');
  t.equal(http.body.truncated, true);
  const recent = await api.request<{ truncated: boolean }>('GET', `${path}?since=${sent[3].key}`, { headers: { 'x-auth-token': token } });
  t.equal(recent.body.truncated, false, 'nothing lost after a retained key');
  const client = await WsClient.connect(system.wsUrl, { token, since: sent[0].key });
  t.match(await client.waitFor((frame) => frame.type === 'catchup'), { count: 3, truncated: true, more: false });
  client.close();
});

t.test('messages expire after their ttl', async (t) => {
  const api = new Http(system.apiUrl);
  const { token, queue } = await api.user();
  await api.publish(queue, { title: 'brief', ttl: 1 });
  const kept = await api.publish(queue, { title: 'kept' });
  await sleep(1600);
  const read = await api.request<{ messages: { key: string }[]; truncated: boolean }>('GET', `${new URL(queue).pathname}?since=0`, { headers: { 'x-auth-token': token } });
  t.same(read.body.messages.map((m) => m.key), [kept.key]);
  t.equal(read.body.truncated, true, 'the expired message is reported as gone');
});
