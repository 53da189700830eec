import type { Test } from 'tap';
import { Http, WsClient, sleep, type Envelope } from '../helpers/client.js';
import type { System } from '../helpers/system.js';

/** The websocket protocol: auth, live delivery, catch-up with collapsing and paging, markers, exactly-once resume. */
export function websocketSuite(t: Test, system: () => System): void {
  const http = () => new Http(system().apiUrl);
  const connect = (auth?: Record<string, unknown> | string, query = '', protocols?: string[]) => WsClient.connect(system().wsUrl + query, auth, protocols);

  /**
   * The original dialect sends nothing before a message, so nothing says when the socket is
   * subscribed: publish probes until one of them arrives. What comes after is told apart by key
   * (keys grow): a probe that was slow to arrive is still older than the next message.
   */
  const probed = async (client: WsClient, api: Http, queue: string): Promise<void> => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const { key } = await api.publish(queue, { title: 'probe' });
      const arrived = await client.waitFor((frame) => frame.key === key, 500).then(() => true, () => false);
      if (arrived) return;
      if (Date.now() > deadline) throw new Error('no probe arrived in 15 s');
    }
  };
  const from = (client: WsClient, key: string) => client.frames.filter((frame) => (frame.key as string) >= key);

  t.test('the original dialect: `token: T`, then each message as its bare envelope (the HTTP item), nothing else; other frames ignored', async (t) => {
    const api = http();
    const { token, own, queue } = await api.user();
    const client = await connect(`token: ${token}`);
    await probed(client, api, queue);
    t.notOk(client.frames.some((frame) => 'type' in frame), 'no hello, no type in any frame');
    client.send('hello?');
    client.send('{"type":"ping"}');
    client.send('{"type":"fetch"}');
    const published = [await api.publish(queue, { title: 'live', body: 'now' }), await api.publish(queue, { title: 'second' })];
    const read = await api.request<{ key: string }>('POST', new URL(own).pathname, { form: { action: 'read', key: published[0].key } });
    await client.waitFor((frame) => (frame.body as { read?: string }).read === published[0].key);
    const items = (await api.request<{ messages: Envelope[] }>('GET', new URL(own).pathname)).body.messages;
    t.same(from(client, published[0].key), items.slice(-3), 'the two messages and the read mark, equal to the GET items, in order, and nothing else');
    t.equal(items.at(-1)!.key, read.body.key);
    t.equal(client.closeCode, null, 'the frames it does not understand left the socket open');
    client.close();
  });

  t.test('the pushwire dialect: the JSON auth frame, or `token: T` (or ?token=) with the pushwire subprotocol; ?token= alone is the original\'s', async (t) => {
    const api = http();
    const { token, queue } = await api.user();
    const byJson = await connect({ token });
    const bySubprotocol = await connect(`token: ${token}`, '', ['pushwire']);
    const byQueryAndSubprotocol = await connect(undefined, `?token=${token}`, ['pushwire']);
    const byQuery = await connect(undefined, `?token=${token}`);
    t.equal(bySubprotocol.protocol, 'pushwire', 'the gateway agrees on the subprotocol');
    for (const client of [byJson, bySubprotocol, byQueryAndSubprotocol]) await client.waitFor((frame) => frame.type === 'hello');
    await probed(byQuery, api, queue);
    t.notOk(byQuery.frames.some((frame) => 'type' in frame), '?token= alone: the original dialect');
    const sent = await api.publish(queue, { title: 'everyone' });
    for (const client of [byJson, bySubprotocol, byQueryAndSubprotocol]) {
      t.match(await client.waitFor((frame) => frame.key === sent.key), { type: 'message' }, 'a typed message frame');
    }
    await byQuery.waitFor((frame) => frame.key === sent.key);
    for (const client of [byJson, bySubprotocol, byQueryAndSubprotocol, byQuery]) client.close();
  });

  t.test('one user, both dialects, several sockets each: every socket gets every message once, in its own dialect', async (t) => {
    const api = http();
    const { token, queue } = await api.user();
    const originals = await Promise.all([0, 1, 2].map(() => connect(`token: ${token}`)));
    const typed = await Promise.all([0, 1].map(() => connect({ token })));
    await Promise.all(typed.map((client) => client.waitFor((frame) => frame.type === 'hello')));
    for (const client of originals) await probed(client, api, queue);
    // Probes reached every socket: what follows is counted from a common point, the next key.
    const sent = [];
    for (let n = 0; n < 20; n++) sent.push(await api.publish(queue, { title: `m${n}` }));
    const keys = sent.map((m) => m.key);
    for (const [index, client] of originals.entries()) {
      await client.waitFor((frame) => frame.key === keys.at(-1), 8000);
      t.same(from(client, keys[0]), sent, `original socket ${index}: every message once, bare`);
    }
    for (const [index, client] of typed.entries()) {
      await client.waitFor((frame) => frame.key === keys.at(-1), 8000);
      t.same(client.messages().filter((m) => m.key >= keys[0]).map((m) => m.key), keys, `typed socket ${index}: every message once`);
    }
    for (const client of [...originals, ...typed]) client.close();
  });

  t.test('bad auth closes with documented codes', async (t) => {
    const unknown = await connect({ token: 'f'.repeat(32) });
    t.equal(await unknown.closed(), 4001, 'unknown token: 4001');
    t.match(unknown.frames[0], { type: 'error', error: 'invalid_token' });
    const garbage = await connect('{"type":"nope"}');
    t.equal(await garbage.closed(), 4003, 'a JSON frame that is no auth, before auth: 4003');
    t.match(garbage.frames[0], { type: 'error', error: 'bad_request' });
    const { token: patient } = await http().user();
    const noise = await connect('hello?');
    noise.send({ token: patient });
    await noise.waitFor((frame) => frame.type === 'hello');
    t.pass('text that is no frame, before auth, is ignored (a client of the original may send it): the auth after it works');
    noise.close();
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
