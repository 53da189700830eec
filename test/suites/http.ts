import type { Test } from 'tap';
import { Http, type HttpResult } from '../helpers/client.js';
import type { System } from '../helpers/system.js';

/** Every route of the HTTP API and every documented error, against a running system. */
export function httpSuite(t: Test, system: () => System): void {
  const http = () => new Http(system().apiUrl);
  const path = (url: string) => new URL(url).pathname;

  t.test('tokens and queues', async (t) => {
    const api = http();
    const created = await api.request<{ token: string; queue: string }>('POST', '/token/');
    t.equal(created.status, 200);
    t.match(created.body.token, /^[0-9a-f]{32}$/, '128 random bits');
    t.match(created.body.queue, new RegExp(`^${system().apiUrl}/queue/[0-9a-f]{32}/$`));
    const token = created.body.token;
    const first = await api.request<{ queue: string }>('POST', '/queue/', { json: { token, domain: 'news.example' } });
    t.equal(first.status, 200);
    const again = await api.request<{ queue: string }>('POST', '/queue/', { form: { token, domain: 'news.example' } });
    t.equal(again.body.queue, first.body.queue, 'one queue per (token, domain)');
    const other = await api.request<{ queue: string }>('POST', '/queue/', { json: { token, domain: 'shop.example' } });
    const listed = await api.request('GET', `/queue/?token=${token}`);
    t.same(listed.body, { 'news.example': first.body.queue, 'shop.example': other.body.queue });
    // Published to first, so every api process (multi-process layout) has the queue's owner cached.
    for (let i = 0; i < 6; i++) await api.publish(other.body.queue, { title: `before delete ${i}` });
    const deleted = await api.request('DELETE', `${path(other.body.queue)}?token=${token}`);
    t.same(deleted.body, { queue: other.body.queue, deleted: true });
    t.same((await api.request('GET', '/queue/', { headers: { 'x-auth-token': token } })).body, { 'news.example': first.body.queue });
    for (let i = 0; i < 6; i++) {
      const gone = await api.request('POST', path(other.body.queue), { json: { title: 'hi' } });
      t.same([gone.status, gone.body.error], [404, 'queue_not_found'], 'a deleted push URL no longer reaches the user');
    }
  });

  t.test('publish (JSON and form) and read back', async (t) => {
    const api = http();
    const { token, queue } = await api.user();
    const json = await api.request<Record<string, unknown>>('POST', path(queue), {
      json: { title: 'Hello', body: 'world', actionUrl: 'https://example.com/a', replaceId: 'r1', iconUrl: 'https://example.com/i.png' },
    });
    t.equal(json.status, 200);
    t.match(json.body, { key: /^[0-9a-f]{24}$/, timestamp: /^\d+\.\d{6}$/, queue, body: { title: 'Hello', body: 'world', actionUrl: 'https://example.com/a', replaceId: 'r1', iconUrl: 'https://example.com/i.png' } });
    const form = await api.request<Record<string, unknown>>('POST', path(queue), { form: { title: 'Form', body: 'posted' } });
    t.equal(form.status, 200);
    t.same((form.body as { body: unknown }).body, { title: 'Form', body: 'posted' });
    const read = await api.request<{ messages: unknown[]; more: boolean; truncated: boolean }>('GET', path(queue), { headers: { 'x-auth-token': token } });
    t.equal(read.status, 200);
    // The publish answer is the envelope plus the original service's `messages` and `status`.
    const envelope = ({ messages: _messages, status: _status, ...rest }: Record<string, unknown>) => rest;
    t.same(json.body.messages, [{ key: json.body.key, timestamp: json.body.timestamp }], 'messages[0] as the original service answered');
    t.equal(json.body.status, 'ok');
    t.same(read.body.messages, [envelope(json.body), envelope(form.body)], 'the same envelope over HTTP as the publish answered');
    t.equal(read.body.more, false);
    t.equal(read.body.truncated, false);
  });

  t.test('GET with since: timestamp or key, collapsed by replaceId, paged by limit', async (t) => {
    const api = http();
    const { token, queue } = await api.user();
    const before = await api.publish(queue, { title: 'before' });
    const sent = [];
    for (const [title, replaceId] of [['a1', 'a'], ['b1', 'b'], ['a2', 'a'], ['c', undefined], ['b2', 'b'], ['a3', 'a']]) {
      sent.push(await api.publish(queue, replaceId ? { title, replaceId } : { title }));
    }
    const headers = { 'x-auth-token': token };
    const all = await api.request<{ messages: { body: { title: string } }[] }>('GET', `${path(queue)}?since=${before.key}`, { headers });
    t.same(all.body.messages.map((m) => m.body.title), ['c', 'b2', 'a3'], 'newest of each group, at the position of the newest');
    const titles: string[] = [];
    let since = before.key;
    for (let page = 0; page < 5; page++) {
      const result = await api.request<{ messages: { key: string; body: { title: string } }[]; more: boolean }>('GET', `${path(queue)}?since=${since}&limit=2`, { headers });
      titles.push(...result.body.messages.map((m) => m.body.title));
      if (!result.body.more) break;
      since = result.body.messages.at(-1)!.key;
    }
    t.same(titles, ['c', 'b2', 'a3'], 'paging with the last key skips nothing and repeats nothing');
    const byTime = await api.request<{ messages: { body: { title: string } }[] }>('GET', `${path(queue)}?since=${before.timestamp}`, { headers });
    t.ok(byTime.body.messages.every((m) => m.body.title !== 'before'), 'since a timestamp excludes messages at that time');
    t.ok(byTime.body.messages.some((m) => m.body.title === 'a3'));
  });

  t.test('read marker and read messages', async (t) => {
    const api = http();
    const { token, queue } = await api.user();
    const message = await api.publish(queue, { title: 'unread' });
    const marker = await api.request<{ timestamp: string }>('PUT', path(queue), { json: { timestamp: '1700000000.5' }, headers: { 'x-auth-token': token } });
    t.same(marker.body, { queue, timestamp: '1700000000.500000' });
    const defaulted = await api.request<{ timestamp: string }>('PUT', path(queue), { headers: { 'x-auth-token': token } });
    t.ok(Math.abs(Number(defaulted.body.timestamp) - Date.now() / 1000) < 60, 'no timestamp: now');
    const read = await api.request<{ key: string; body: unknown }>('POST', `${path(queue)}?action=read&key=${message.key}`, { headers: { 'x-auth-token': token } });
    t.equal(read.status, 200);
    t.same(read.body.body, { read: message.key });
    const listed = await api.request<{ messages: { body: Record<string, unknown> }[]; timestamp: string }>('GET', path(queue), { headers: { 'x-auth-token': token } });
    t.equal(listed.body.timestamp, defaulted.body.timestamp, 'the queue keeps its marker');
    t.same(listed.body.messages.map((m) => m.body), [{ title: 'unread' }, { timestamp: '1700000000.500000' }, { timestamp: defaulted.body.timestamp }, { read: message.key }]);
  });

  t.test('the user\'s own queue, as in the original service: every message of the user, read and marked by its URL alone', async (t) => {
    const api = http();
    const { token, own, queue } = await api.user();
    const other = (await api.request<{ queue: string }>('POST', '/queue/', { json: { token, domain: 'other.example' } })).body.queue;
    const first = await api.publish(queue, { title: 'from one site' });
    const second = await api.publish(other, { title: 'from another' });
    const direct = await api.publish(own, { title: 'to the own queue' });
    const all = await api.request<{ messages: { key: string; queue: string }[] }>('GET', path(own));
    t.equal(all.status, 200, 'no token needed: only the token\'s holder was given this URL');
    t.same(all.body.messages.map((m) => [m.key, m.queue]), [[first.key, queue], [second.key, other], [direct.key, own]], 'all of the user\'s messages, each with the queue it was sent to');
    const site = await api.request<{ messages: { key: string }[] }>('GET', path(queue), { headers: { 'x-auth-token': token } });
    t.same(site.body.messages.map((m) => m.key), [first.key], 'a site\'s queue holds only its own');
    t.match(await api.request('GET', path(queue)), { status: 400, body: { error: 'missing_token' } }, 'and needs the token: the site knows its URL');
    const since = await api.request<{ messages: { key: string }[] }>('GET', `${path(own)}?since=${first.key}`);
    t.same(since.body.messages.map((m) => m.key), [second.key, direct.key], 'since: after that key');

    // Marked read the original way: action and key in a form body, on the own queue's URL.
    const read = await api.request<{ key: string; body: unknown; messages: { key: string }[]; status: string }>('POST', path(own), { form: { action: 'read', key: first.key } });
    t.equal(read.status, 200);
    t.same([read.body.body, read.body.messages[0].key, read.body.status], [{ read: first.key }, read.body.key, 'ok']);
    t.match(await api.request('POST', path(own), { form: { action: 'read' } }), { status: 404, body: { error: 'message_not_found' } }, 'no key: 404, as the original');
    t.match(await api.request('POST', path(queue), { form: { action: 'read', key: first.key } }), { status: 400, body: { error: 'missing_token' } }, 'a site cannot mark its user\'s messages');
    const json = await api.request<{ body: unknown }>('POST', path(queue), { json: { title: 'a JSON body is a message', action: 'read' } });
    t.same(json.body.body, { title: 'a JSON body is a message' }, '`action` in a JSON body is no field of a message');
    const after = await api.request<{ messages: { body: Record<string, unknown> }[] }>('GET', path(own));
    t.same(after.body.messages.at(-2)?.body, { read: first.key }, 'the read mark is among the user\'s messages');
  });

  t.test('batch publish: many queues in one request, one answer per item, a bad item fails alone', async (t) => {
    const api = http();
    const alice = await api.user();
    const bob = await api.user();
    const doomed = await api.user('doomed.example');
    await api.request('DELETE', `${path(doomed.queue)}?token=${doomed.token}`);
    type Item = { key?: string; timestamp?: string; queue?: string; error?: string; message?: string; status?: number };
    const result = await api.request<{ published: number; failed: number; results: Item[] }>('POST', '/publish', {
      json: {
        messages: [
          { queue: alice.queue, message: { title: 'a1', replaceId: 'r' } },
          { queue: path(bob.queue).split('/')[2], message: { title: 'b1' } },
          { queue: alice.queue, message: { body: 'no title' } },
          { queue: bob.queue, message: { title: 'nul \u0000' } },
          { queue: alice.queue, message: { title: 'lone \ud800' } },
          { queue: doomed.queue, message: { title: 'to a deleted queue' } },
          { queue: 'no-such-queue', message: { title: 'x' } },
          { queue: alice.queue, message: { title: 'a2', ttl: 60 } },
          'not an item',
        ],
      },
    });
    t.equal(result.status, 200);
    t.same([result.body.published, result.body.failed], [3, 6]);
    const [a1, b1, noTitle, nul, lone, deleted, unknown, a2, junk] = result.body.results;
    t.match(a1, { key: /^[0-9a-f]{24}$/, timestamp: /^\d+\.\d{6}$/, queue: alice.queue });
    t.match(b1, { key: /^[0-9a-f]{24}$/, queue: bob.queue }, 'a queue named without its URL');
    t.match(noTitle, { error: 'missing_title', status: 400, message: /^messages\[2\]: / });
    t.match(nul, { error: 'invalid_field', status: 400 }, 'a NUL character is refused at the edge');
    t.match(lone, { error: 'invalid_field', status: 400 }, 'a lone surrogate is refused at the edge');
    t.match(deleted, { error: 'queue_not_found', status: 404 });
    t.match(unknown, { error: 'queue_not_found', status: 404 });
    t.match(a2, { key: /^[0-9a-f]{24}$/ });
    t.match(junk, { error: 'invalid_field', status: 400 });
    const read = await api.request<{ messages: { key: string; body: { title: string } }[] }>('GET', path(alice.queue), { headers: { 'x-auth-token': alice.token } });
    t.same(read.body.messages.map((m) => [m.key, m.body.title]), [[a1.key, 'a1'], [a2.key, 'a2']], 'stored in request order');
    const bobs = await api.request<{ messages: { key: string }[] }>('GET', path(bob.queue), { headers: { 'x-auth-token': bob.token } });
    t.same(bobs.body.messages.map((m) => m.key), [b1.key]);

    const tooMany = await api.request('POST', '/publish', { json: { messages: Array.from({ length: 1001 }, () => ({ queue: alice.queue, message: { title: 'x' } })) } });
    t.same([tooMany.status, tooMany.body.error], [413, 'too_many_messages'], 'more than PUSHWIRE_MAX_BATCH_MESSAGES');
    for (const [name, body] of [['no messages field', {}], ['messages not an array', { messages: 'x' }], ['no messages', { messages: [] }]] as const) {
      const refused = await api.request('POST', '/publish', { json: body });
      t.same([refused.status, refused.body.error], [400, 'invalid_field'], name);
    }
  });

  t.test('what the store cannot hold is refused at the edge on every route, and fails nobody else', async (t) => {
    const api = http();
    const { token, queue } = await api.user();
    const q = path(queue);
    const refusals: [string, () => Promise<HttpResult>][] = [
      ['NUL in a JSON title', () => api.request('POST', q, { raw: '{"title":"\\u0000"}', headers: { 'content-type': 'application/json' } })],
      ['NUL in a form field', () => api.request('POST', q, { form: { title: 'a\u0000b' } })],
      ['lone surrogate', () => api.request('POST', q, { raw: '{"title":"\\udc00x"}', headers: { 'content-type': 'application/json' } })],
      ['ttl=Infinity from a form', () => api.request('POST', q, { form: { title: 'x', ttl: 'Infinity' } })],
      ['NUL in a domain', () => api.request('POST', '/queue/', { json: { token, domain: 'a\u0000.example' } })],
      ['NUL in a query string', () => api.request('GET', `${q}?since=1%00`, { headers: { 'x-auth-token': token } })],
    ];
    const neighbours = Array.from({ length: 8 }, (_, i) => api.publish(queue, { title: `neighbour ${i}` }));
    for (const [name, call] of refusals) {
      const result = await call();
      t.same([result.status, result.body?.error], [400, 'invalid_field'], name);
    }
    t.equal((await Promise.all(neighbours)).length, 8, 'publishes alongside them all stored');
    const sentinel = await api.publish(queue, { title: 'after', body: 'emoji 😀 is a valid surrogate pair' });
    const read = await api.request<{ messages: { key: string; body: { title: string } }[] }>('GET', q, { headers: { 'x-auth-token': token } });
    t.equal(read.body.messages.length, 9, 'only the good ones were stored');
    t.equal(read.body.messages.at(-1)!.key, sentinel.key);
  });

  t.test('nodes', async (t) => {
    const nodes = await http().request<{ nodes: string[] }>('GET', '/nodes/');
    t.equal(nodes.status, 200);
    t.same(nodes.body.nodes, [new URL(system().wsUrl).host]);
  });

  t.test('every bad input gets a 4xx with a JSON error code', async (t) => {
    const api = http();
    const { token, queue } = await api.user();
    const stranger = await api.user();
    const q = path(queue);
    const auth = { 'x-auth-token': token };
    const cases: [string, () => Promise<HttpResult>, number, string][] = [
      ['missing title', () => api.request('POST', q, { json: { body: 'no title' } }), 400, 'missing_title'],
      ['empty title', () => api.request('POST', q, { json: { title: '' } }), 400, 'missing_title'],
      ['title of the wrong type', () => api.request('POST', q, { json: { title: { nested: true } } }), 400, 'invalid_field'],
      ['actionUrl not a URL', () => api.request('POST', q, { json: { title: 't', actionUrl: 'javascript:alert(1)' } }), 400, 'invalid_field'],
      ['ttl too long', () => api.request('POST', q, { json: { title: 't', ttl: 10 ** 9 } }), 400, 'invalid_field'],
      ['unknown content type', () => api.request('POST', q, { raw: 'title=x', headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type'],
      ['malformed JSON', () => api.request('POST', q, { raw: '{"title":', headers: { 'content-type': 'application/json' } }), 400, 'bad_request'],
      ['oversized body', () => api.request('POST', q, { json: { title: 'x'.repeat(20_000) } }), 413, 'payload_too_large'],
      ['unknown queue', () => api.request('POST', '/queue/00000000000000000000000000000000/', { json: { title: 't' } }), 404, 'queue_not_found'],
      ['unknown queue on GET', () => api.request('GET', '/queue/nope/', { headers: auth }), 404, 'queue_not_found'],
      ['missing token (400, as the original service)', () => api.request('GET', q), 400, 'missing_token'],
      ['unknown token', () => api.request('GET', q, { headers: { 'x-auth-token': 'f'.repeat(32) } }), 401, 'invalid_token'],
      ["another user's token: not found (as the original service)", () => api.request('GET', q, { headers: { 'x-auth-token': stranger.token } }), 404, 'queue_not_found'],
      ["marker with another user's token", () => api.request('PUT', q, { headers: { 'x-auth-token': stranger.token } }), 404, 'queue_not_found'],
      ["delete with another user's token", () => api.request('DELETE', `${q}?token=${stranger.token}`), 404, 'queue_not_found'],
      ['bad since', () => api.request('GET', `${q}?since=yesterday`, { headers: auth }), 400, 'bad_since'],
      ["since: another user's key", () => api.request('GET', `${q}?since=${'0'.repeat(11)}f${'0'.repeat(11)}1`, { headers: auth }), 400, 'bad_since'],
      ['limit zero', () => api.request('GET', `${q}?limit=0`, { headers: auth }), 400, 'bad_limit'],
      ['limit too large', () => api.request('GET', `${q}?limit=100000`, { headers: auth }), 400, 'bad_limit'],
      ['limit not a number', () => api.request('GET', `${q}?limit=ten`, { headers: auth }), 400, 'bad_limit'],
      ['bad marker timestamp', () => api.request('PUT', q, { json: { timestamp: 'noon' }, headers: auth }), 400, 'invalid_field'],
      ['unknown action', () => api.request('POST', `${q}?action=star`, { headers: auth }), 400, 'bad_action'],
      ['read without key (404, as the original service)', () => api.request('POST', `${q}?action=read`, { headers: auth }), 404, 'message_not_found'],
      ['read of an unknown key', () => api.request('POST', `${q}?action=read&key=${'0'.repeat(24)}`, { headers: auth }), 400, 'bad_key'],
      ['read without token', () => api.request('POST', `${q}?action=read&key=${'0'.repeat(24)}`), 400, 'missing_token'],
      ['queue without domain', () => api.request('POST', '/queue/', { json: { token } }), 400, 'invalid_field'],
      ['queue with unknown token', () => api.request('POST', '/queue/', { json: { token: 'nope', domain: 'a.example' } }), 401, 'invalid_token'],
      ['list queues without token', () => api.request('GET', '/queue/'), 400, 'missing_token'],
      ['unknown route', () => api.request('GET', '/nothing/here'), 404, 'not_found'],
      ['a known path with another method (405, as the original service)', () => api.request('GET', '/token/'), 405, 'method_not_allowed'],
    ];
    for (const [name, call, status, code] of cases) {
      const result = await call();
      t.equal(result.status, status, `${name}: status`);
      t.equal(result.body?.error, code, `${name}: code`);
      t.type(result.body?.message, 'string', `${name}: message`);
    }
    const wrongMethod = await fetch(`${system().apiUrl}/nodes/`, { method: 'DELETE' });
    t.equal(wrongMethod.headers.get('allow'), 'GET, HEAD', '405 says which methods the path takes');
    const missing = await api.request('GET', '/queue/');
    t.match(missing.body, { status: 'error', errors: [{ location: 'body', name: 'token', description: missing.body.message }] }, 'the original service\'s error fields too');
    const untitled = await api.request('POST', q, { json: { body: 'no title' } });
    t.match(untitled.body, { error: 'missing_title', errors: [{ location: 'body', name: 'title' }] }, 'naming the field');
  });
}
