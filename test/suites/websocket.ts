import type { Test } from 'tap';
import { Http, WsClient, sleep, type Envelope } from '../helpers/client.js';
import type { System } from '../helpers/system.js';

/** The websocket protocol: auth, live delivery, catch-up with collapsing and paging, markers, exactly-once resume. */
export function websocketSuite(t: Test, system: () => System): void {
  const http = () => new Http(system().apiUrl);
  const connect = (auth?: Record<string, unknown> | string, query = '') => WsClient.connect(system().wsUrl + query, auth);

  t.test('live delivery after `token: T` auth, same envelope as HTTP', async (t) => {
    const api = http();
    const { token, queue } = await api.user();
    const client = await connect(`token: ${token}`);
    await client.waitFor((frame) => frame.type === 'hello');
    await sleep(300);
    const published = await api.publish(queue, { title: 'live', body: 'now' });
    const [received] = await client.waitForMessages(1);
    const { type, ...envelope } = client.frames.find((frame) => frame.type === 'message')!;
    t.equal(type, 'message');
    t.same(envelope, published);
    t.same(received.key, published.key);
    client.close();
  });

  t.test('JSON auth and token in the URL query', async (t) => {
    const api = http();
    const { token, queue } = await api.user();
    const byQuery = await connect(undefined, `?token=${token}`);
    const byJson = await connect({ token });
    await byQuery.waitFor((frame) => frame.type === 'hello');
    await byJson.waitFor((frame) => frame.type === 'hello');
    await sleep(300);
    await api.publish(queue, { title: 'both' });
    await byQuery.waitForMessages(1);
    await byJson.waitForMessages(1);
    t.pass('both sockets received the message');
    byQuery.close();
    byJson.close();
  });

  t.test('bad auth closes with documented codes', async (t) => {
    const unknown = await connect({ token: 'f'.repeat(32) });
    t.equal(await unknown.closed(), 4001, 'unknown token: 4001');
    t.match(unknown.frames[0], { type: 'error', error: 'invalid_token' });
    const garbage = await connect('hello?');
    t.equal(await garbage.closed(), 4003, 'garbage before auth: 4003');
    t.match(garbage.frames[0], { type: 'error', error: 'bad_request' });
    const silent = await connect();
    t.equal(await silent.closed(3000), 4002, 'no auth in time: 4002');
    const { token } = await http().user();
    const badSince = await connect({ token, since: 'tomorrow' });
    t.equal(await badSince.closed(), 4003);
    t.match(badSince.frames[0], { type: 'error', error: 'bad_since' });
  });

  t.test('errors after auth keep the socket open', async (t) => {
    const { token } = await http().user();
    const client = await connect({ token });
    await client.waitFor((frame) => frame.type === 'hello');
    client.send('not json');
    await client.waitFor((frame) => frame.type === 'error' && frame.error === 'bad_request');
    client.send({ type: 'ack', key: 'ffffffffffffffffffffffff' });
    await client.waitFor((frame) => frame.type === 'error' && frame.error === 'bad_key');
    client.send({ type: 'fetch' });
    await client.waitFor((frame) => frame.type === 'error' && frame.message !== undefined && String(frame.message).includes('Nothing more'));
    client.send({ type: 'ping' });
    await client.waitFor((frame) => frame.type === 'pong');
    t.equal(client.closeCode, null);
    client.close();
  });

  t.test('a frame over the limit (4 KiB) closes the socket with 1009, others stay', async (t) => {
    const { token } = await http().user();
    const big = await connect({ token });
    const neighbour = await connect({ token });
    await big.waitFor((frame) => frame.type === 'hello');
    await neighbour.waitFor((frame) => frame.type === 'hello');
    big.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(5000) }));
    t.equal(await big.closed(), 1009);
    neighbour.send({ type: 'ping' });
    await neighbour.waitFor((frame) => frame.type === 'pong');
    t.equal(neighbour.closeCode, null, 'another socket of the user is untouched');
    neighbour.close();
  });

  t.test('catch-up: oldest first, collapsed by replaceId, limit after collapsing, paged with fetch', async (t) => {
    const api = http();
    const { token, queue } = await api.user();
    const first = await api.publish(queue, { title: 'seen' });
    const plan: [string, string | undefined][] = [['a1', 'a'], ['b1', 'b'], ['x', undefined], ['a2', 'a'], ['y', undefined], ['b2', 'b'], ['a3', 'a']];
    for (const [title, replaceId] of plan) await api.publish(queue, replaceId ? { title, replaceId } : { title });
    const client = await connect({ token, since: first.key, limit: 2 });
    const titles = () => client.messages().map((m) => m.body.title);
    const page1 = await client.waitFor((frame) => frame.type === 'catchup');
    t.match(page1, { count: 2, more: true, truncated: false });
    t.same(titles(), ['x', 'y']);
    client.send({ type: 'fetch', limit: 2 });
    await client.waitFor((frame) => frame.type === 'catchup' && frame.more === false, 5000, client.frames.indexOf(page1) + 1);
    t.same(titles(), ['x', 'y', 'b2', 'a3'], 'the newest of each group, in the order of each group\'s newest');
    await sleep(300);
    const live = await api.publish(queue, { title: 'a4', replaceId: 'a' });
    await client.waitForMessages(5);
    t.equal(client.messages()[4].key, live.key, 'then live, without a gap');
    client.close();
  });

  t.test('read markers and read messages reach the user\'s other clients', async (t) => {
    const api = http();
    const { token, queue } = await api.user();
    const phone = await connect({ token });
    const laptop = await connect({ token });
    await phone.waitFor((frame) => frame.type === 'hello');
    await laptop.waitFor((frame) => frame.type === 'hello');
    await sleep(300);
    const message = await api.publish(queue, { title: 'read me' });
    await api.request('POST', `${new URL(queue).pathname}?action=read&key=${message.key}`, { headers: { 'x-auth-token': token } });
    await api.request('PUT', new URL(queue).pathname, { json: { timestamp: '1800000000' }, headers: { 'x-auth-token': token } });
    for (const client of [phone, laptop]) {
      const read = await client.waitFor((frame) => frame.type === 'read');
      t.same(read.body, { read: message.key });
      t.equal(read.queue, queue);
      const marker = await client.waitFor((frame) => frame.type === 'marker');
      t.same(marker.body, { timestamp: '1800000000.000000' });
    }
    phone.close();
    laptop.close();
  });

  t.test('acks: the user\'s acknowledged position survives the socket and is offered on the next hello', async (t) => {
    const api = http();
    const { token, queue } = await api.user();
    const client = await connect({ token });
    const hello = await client.waitFor((frame) => frame.type === 'hello');
    t.equal(hello.acked, null, 'nothing acknowledged yet');
    await sleep(300);
    const first = await api.publish(queue, { title: 'one' });
    const second = await api.publish(queue, { title: 'two' });
    await client.waitForMessages(2);
    client.send({ type: 'ack', key: first.key });
    client.send({ type: 'ack', key: second.key });
    client.send({ type: 'ack', key: first.key });
    await sleep(600);
    client.close();
    const next = await connect({ token });
    t.equal((await next.waitFor((frame) => frame.type === 'hello')).acked, second.key, 'the highest key acknowledged');
    next.close();
  });

  t.test('sockets of one user keep every message in order while one of them stops reading', async (t) => {
    const api = http();
    const { token, queue } = await api.user();
    const sockets = await Promise.all([0, 1, 2].map(() => WsClient.subscribed(system().wsUrl, { token })));
    const [slow] = sockets;
    // Warm up: every socket in step, so the next messages go out as one publish to all.
    await api.publish(queue, { title: 'first' });
    await Promise.all(sockets.map((socket) => socket.waitForMessages(1)));
    slow.pause();
    const filler = 'x'.repeat(2000);
    const published: string[] = [];
    for (let round = 0; round < 40; round++) {
      published.push(...(await Promise.all(Array.from({ length: 16 }, (_, i) => api.publish(queue, { title: `r${round}-${i}`, body: filler })))).map((m) => m.key));
    }
    await Promise.all(sockets.slice(1).map((socket) => socket.waitForMessages(published.length + 1, 15_000)));
    slow.resume();
    await slow.waitForMessages(published.length + 1, 15_000);
    for (const [i, socket] of sockets.entries()) {
      const keys = socket.messages().slice(1).map((m) => m.key);
      t.same(keys, [...published].sort(), `socket ${i}: all ${published.length} exactly once, in key order`);
    }
    sockets.forEach((socket) => socket.close());
  });

  t.test('a client resuming in a loop while publishers post concurrently gets every key exactly once', async (t) => {
    const api = http();
    const { token, queue } = await api.user('a.example');
    const second = (await api.request<{ queue: string }>('POST', '/queue/', { json: { token, domain: 'b.example' } })).body.queue;
    const publishers = 4;
    const perPublisher = 40;
    const published: string[] = [];
    let publishing = true;
    const posting = Promise.all(Array.from({ length: publishers }, async (_, p) => {
      for (let i = 0; i < perPublisher; i++) published.push((await api.publish(p % 2 ? queue : second, { title: `p${p}-${i}` })).key);
    })).finally(() => { publishing = false; });
    const received: Envelope[] = [];
    // Resume from the start of time first, then from the last key seen.
    let last = '0';
    let rounds = 0;
    while (publishing || rounds === 0) {
      rounds++;
      const client = await connect({ token, since: last, limit: 1000 });
      await client.waitFor((frame) => frame.type === 'catchup');
      await sleep(20 + Math.random() * 60);
      client.close();
      await client.closed();
      received.push(...client.messages());
      last = received.at(-1)?.key ?? last;
    }
    await posting;
    const final = await connect({ token, since: last, limit: 1000 });
    await final.waitFor((frame) => frame.type === 'catchup');
    received.push(...final.messages());
    final.close();
    const keys = received.map((m) => m.key);
    t.equal(new Set(keys).size, keys.length, 'no duplicates');
    t.same([...keys].sort(), keys, 'in key order');
    t.same(new Set(keys), new Set(published), `all ${published.length} keys over ${rounds} reconnects`);
  });
}
