import { Redis } from 'ioredis';
import pg from 'pg';
import type { Test } from 'tap';
import { eventually, Http, WsClient, sleep, type Envelope } from '../helpers/client.js';
import type { System } from '../helpers/system.js';

async function nodes(apiUrl: string): Promise<string[]> {
  return ((await new Http(apiUrl).request<{ nodes: string[] }>('GET', '/nodes/')).body).nodes;
}

/** Restarts and failures: what was acknowledged is never lost. */
export function resilienceSuite(t: Test, system: () => System, kind: System['kind']): void {
  const http = () => new Http(system().apiUrl);

  t.test('gateway killed and restarted: clients reconnect with since and catch up, nothing lost', async (t) => {
    const api = http();
    const users = await Promise.all([1, 2, 3].map(() => api.user()));
    const clients = await Promise.all(users.map(({ token }) => WsClient.connect(system().wsUrl, { token })));
    await Promise.all(clients.map((client) => client.waitFor((frame) => frame.type === 'hello')));
    await sleep(300);
    const before = await Promise.all(users.map(({ queue }) => api.publish(queue, { title: 'before' })));
    await Promise.all(clients.map((client) => client.waitForMessages(1)));
    await system().stopRole('gateway', 'SIGKILL');
    await Promise.all(clients.map((client) => client.closed()));
    const during: Envelope[][] = [];
    if (system().kind === 'multiprocess') {
      for (const { queue } of users) during.push([await api.publish(queue, { title: 'while down 1' }), await api.publish(queue, { title: 'while down 2' })]);
    }
    await system().startRole('gateway');
    const resumed = await Promise.all(users.map(({ token }, index) =>
      WsClient.connect(system().wsUrl, { token, since: clients[index].messages().at(-1)!.key })));
    await Promise.all(resumed.map((client) => client.waitFor((frame) => frame.type === 'catchup')));
    const after = await Promise.all(users.map(({ queue }) => api.publish(queue, { title: 'after' })));
    for (const [index, client] of resumed.entries()) {
      await client.waitForMessages((during[index]?.length ?? 0) + 1);
      t.same(client.messages().map((m) => m.key), [...(during[index] ?? []), after[index]].map((m) => m.key), `user ${index}: missed then live, once each`);
      t.equal(clients[index].messages()[0].key, before[index].key);
      client.close();
    }
  });

  t.test('dead gateway leaves /nodes/ within 3 s', { skip: kind === 'embedded' ? 'one process: the gateway dies with the api' : false }, async (t) => {
    t.ok((await nodes(system().apiUrl)).length > 0);
    // Gateways killed by an earlier test may linger until reaped: count the ones heartbeating.
    const up = async () => (await new Http(system().monitorUrl).request<{ gateways: { state: string }[] }>('GET', '/status')).body.gateways.filter((g) => g.state === 'up').length;
    const deadline = Date.now() + 3000;
    while ((await up()) !== system().gatewayProcesses && Date.now() < deadline) await sleep(100);
    t.equal(await up(), system().gatewayProcesses, 'every gateway process heartbeats on its own');
    const redis = new Redis(system().redis!.url);
    t.teardown(() => redis.disconnect());
    const presence = () => redis.keys(`${system().redis!.prefix}user:*`);
    // Users of earlier tests may still be leaving presence: look for a key that was not there.
    const before = new Set(await presence());
    const { token } = await http().user();
    const client = await WsClient.connect(system().wsUrl, { token });
    await client.waitFor((frame) => frame.type === 'hello');
    const joined = async () => (await presence()).filter((key) => !before.has(key));
    const shownBy = Date.now() + 3000;
    while ((await joined()).length === 0 && Date.now() < shownBy) await sleep(50);
    t.equal((await joined()).length, 1, 'presence shows the connected user');
    const killedAt = Date.now();
    await system().stopRole('gateway', 'SIGKILL');
    while ((await nodes(system().apiUrl)).length > 0) {
      if (Date.now() - killedAt > 5000) break;
      await sleep(50);
    }
    const elapsed = Date.now() - killedAt;
    t.ok(elapsed < 3000, `gone after ${elapsed} ms`);
    const status = async () => (await new Http(system().monitorUrl).request<{ gateways: unknown[] }>('GET', '/status')).body.gateways;
    while ((await status()).length > 0 && Date.now() - killedAt < 3000) await sleep(50);
    t.same(await status(), [], `the monitor forgot it too, within ${Date.now() - killedAt} ms`);
    // The monitor forgets a gateway, then clears its presence: allow the same 3 s.
    while ((await presence()).length > 0 && Date.now() - killedAt < 3000) await sleep(50);
    t.same(await presence(), [], `and its users left presence, within ${Date.now() - killedAt} ms`);
    await system().startRole('gateway');
    t.equal((await nodes(system().apiUrl)).length, 1, 'a restarted gateway is listed again');
  });

  t.test('broker restarted: connected clients get what was published meanwhile, without reconnecting', { skip: kind === 'embedded' ? 'one process: the broker dies with the gateway' : false }, async (t) => {
    const api = http();
    const { token, queue } = await api.user();
    const client = await WsClient.subscribed(system().wsUrl, { token });
    await api.publish(queue, { title: 'one' });
    await client.waitForMessages(1);
    await system().stopRole('broker', 'SIGKILL');
    const published = [await api.publish(queue, { title: 'two' }), await api.publish(queue, { title: 'three' })];
    await system().startRole('broker');
    published.push(await api.publish(queue, { title: 'four' }));
    await client.waitForMessages(4, 8000);
    t.same(client.messages().slice(1).map((m) => m.key), published.map((m) => m.key), 'in order, none lost, none twice');
    t.equal(client.closeCode, null, 'the socket stayed open');
    client.close();
  });

  t.test('a gateway stopping gracefully: a reconnect frame, delivery until the client goes, then 1001; sockets not yet authenticated close at once', async (t) => {
    const api = http();
    const { token, queue } = await api.user();
    const client = await WsClient.subscribed(system().wsUrl, { token });
    const unauthenticated = await WsClient.connect(system().wsUrl);
    const stopping = system().stopRole('gateway', 'SIGTERM');
    t.match(await client.waitFor((frame) => frame.type === 'reconnect'), { type: 'reconnect', reason: 'draining' });
    const drainingFrom = client.frames.length;
    t.equal(await unauthenticated.closed(), 1001, 'a socket with nothing to lose is closed at once');
    t.equal(client.closeCode, null, 'while the authenticated one is still served');
    // In one process the api stops with the gateway; with circus.ini's it keeps publishing.
    if (kind !== 'embedded') {
      const during = await api.publish(queue, { title: 'during the drain' });
      t.match(await client.waitFor((frame) => frame.type === 'message', 5000, drainingFrom), { key: during.key }, 'messages still arrive while draining');
    }
    client.send({ type: 'fetch' });
    t.match(await client.waitFor((frame) => frame.type === 'error', 5000, drainingFrom), { error: 'unavailable' }, 'no new catch-up reads while draining');
    client.send({ type: 'ping' });
    await client.waitFor((frame) => frame.type === 'pong', 5000, drainingFrom);
    t.equal(await client.closed(), 1001, 'a client that does not leave is closed after the drain time');
    await stopping;
    await system().startRole('gateway');
  });

  t.test('draining one of two gateway processes: its clients move to the other, nothing published meanwhile is lost', { skip: kind === 'embedded' ? 'one process' : false }, async (t) => {
    const api = http();
    const { token, queue } = await api.user();
    const client = await WsClient.connect(system().wsUrl, { token });
    const hello = await client.waitFor((frame) => frame.type === 'hello');
    await sleep(300);
    const first = await api.publish(queue, { title: 'before the drain' });
    await client.waitForMessages(1);
    const pid = Number(/-(\d+)-[0-9a-f]+$/.exec(String(hello.gateway))![1]);
    const draining = system().stopProcess('gateway', pid, 'SIGTERM');
    await client.waitFor((frame) => frame.type === 'reconnect');
    const during = await api.publish(queue, { title: 'during the drain' });
    client.close();
    // The draining process closed its listening socket: the kernel sends this to the other one.
    const moved = await WsClient.connect(system().wsUrl, { token, since: first.key });
    const movedHello = await moved.waitFor((frame) => frame.type === 'hello');
    t.not(movedHello.gateway, hello.gateway, 'served by the other gateway process');
    await moved.waitFor((frame) => frame.type === 'catchup');
    const after = await api.publish(queue, { title: 'after the drain' });
    await moved.waitForMessages(2);
    t.same(moved.messages().map((m) => m.key), [during.key, after.key]);
    const listed = async () => (await new Http(system().apiUrl).request<{ nodes: string[] }>('GET', '/nodes/')).body.nodes;
    const deadline = Date.now() + 1500;
    while ((await listed()).length === 0 && Date.now() < deadline) await sleep(50);
    t.same(await listed(), [new URL(system().wsUrl).host], 'the address stays listed');
    moved.close();
    await draining;
    await system().startRole('gateway');
  });

  t.test('a token sent in time is not refused for a slow lookup: the store held past PUSHWIRE_AUTH_TIMEOUT_MS, then hello', { skip: kind === 'embedded' ? 'the embedded store cannot be held from outside' : false }, async (t) => {
    const { token } = await http().user();
    const holder = new pg.Client({ connectionString: system().databaseUrl });
    await holder.connect();
    t.teardown(() => holder.end());
    // The test systems' auth timeout is 1 s: the token's lookup waits on this lock twice as long.
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
    const client = await WsClient.connect(system().wsUrl, { token });
    await sleep(2000);
    await holder.query('COMMIT');
    await client.waitFor((frame) => frame.type === 'hello', 10_000);
    t.equal(client.closeCode, null, 'still open once its token was found');
    client.close();
  });

  t.test('tokens never reach the logs', async (t) => {
    const api = http();
    const { token, queue } = await api.user();
    await api.request('GET', `/queue/?token=${token}`);
    await api.request('GET', `${new URL(queue).pathname}?token=${token}`);
    await api.request('GET', new URL(queue).pathname, { headers: { 'x-auth-token': token } });
    await sleep(200);
    t.notOk(system().output().includes(token), 'no token in any daemon\'s output');
  });

  t.test('killed with SIGKILL while 16 publishers post: every acknowledged message is there after the restart', async (t) => {
    const api = http();
    const users = await Promise.all(Array.from({ length: 4 }, () => api.user()));
    const acknowledged = users.map(() => [] as string[]);
    let stop = false;
    const publishers = Array.from({ length: 16 }, async (_, p) => {
      const target = p % users.length;
      for (let i = 0; !stop; i++) {
        try {
          const result = await api.request<{ key: string }>('POST', new URL(users[target].queue).pathname, { json: { title: `p${p}-${i}` } });
          if (result.status === 200) acknowledged[target].push(result.body.key);
        } catch {
          // Cut by the kill, or refused while down: not acknowledged, so not expected.
          await sleep(20);
        }
      }
    });
    // Until publishes flow, then the kill lands in the middle of them.
    await eventually(() => acknowledged.flat().length >= 100, 30_000);
    await system().restart('api', 'SIGKILL');
    stop = true;
    await Promise.all(publishers);
    t.ok(acknowledged.flat().length >= 100, `${acknowledged.flat().length} publishes acknowledged`);
    for (const [index, { token, queue }] of users.entries()) {
      const stored = new Set<string>();
      let since = '0';
      for (;;) {
        const page = await http().request<{ messages: Envelope[]; more: boolean }>('GET', `${new URL(queue).pathname}?since=${since}&limit=1000`, { headers: { 'x-auth-token': token } });
        page.body.messages.forEach((message) => stored.add(message.key));
        if (!page.body.more) break;
        since = page.body.messages.at(-1)!.key;
      }
      t.same(acknowledged[index].filter((key) => !stored.has(key)), [], `user ${index}: none of ${acknowledged[index].length} acknowledged is missing`);
    }
  });

  t.test('the whole system restarted keeps its data', async (t) => {
    const api = http();
    const { token, queue } = await api.user();
    const message = await api.publish(queue, { title: 'durable' });
    await system().restartAll();
    const read = await http().request<{ messages: Envelope[] }>('GET', new URL(queue).pathname, { headers: { 'x-auth-token': token } });
    t.same(read.body.messages, [message]);
    const client = await WsClient.connect(system().wsUrl, { token, since: '0' });
    await client.waitFor((frame) => frame.type === 'catchup');
    t.same(client.messages().map((m) => m.key), [message.key]);
    client.close();
  });
}

/** SIGTERM to the api while publishers post: every publish it acknowledged is stored and delivered. */
export function apiDrainTest(t: Test, system: () => System): void {
  t.test('api stopped with SIGTERM mid-traffic: every acknowledged publish is delivered', async (t) => {
    const api = new Http(system().apiUrl);
    const { token, queue } = await api.user();
    const acknowledged: string[] = [];
    let refused = 0;
    let stop = false;
    const publishers = Array.from({ length: 8 }, async (_, p) => {
      for (let i = 0; !stop; i++) {
        try {
          const result = await api.request<{ key: string }>('POST', new URL(queue).pathname, { json: { title: `p${p}-${i}` } });
          if (result.status === 200) acknowledged.push(result.body.key);
          else refused++;
        } catch {
          refused++;
          await sleep(20);
        }
      }
    });
    await sleep(400);
    await system().stopRole('api', 'SIGTERM');
    await system().startRole('api');
    await sleep(200);
    stop = true;
    await Promise.all(publishers);
    t.ok(acknowledged.length > 20, `${acknowledged.length} publishes acknowledged, ${refused} refused or cut while the api was down`);
    const client = await WsClient.connect(system().wsUrl, { token, since: '0', limit: 1000 });
    await client.waitFor((frame) => frame.type === 'catchup');
    const received = new Set(client.messages().map((m) => m.key));
    t.same(acknowledged.filter((key) => !received.has(key)), [], 'none acknowledged is missing');
    client.close();
  });
}
