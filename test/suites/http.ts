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
    const deleted = await api.request('DELETE', `${path(other.body.queue)}?token=${token}`);
    t.same(deleted.body, { queue: other.body.queue, deleted: true });
    t.same((await api.request('GET', '/queue/', { headers: { 'x-auth-token': token } })).body, { 'news.example': first.body.queue });
    const gone = await api.request('POST', path(other.body.queue), { json: { title: 'hi' } });
    t.same([gone.status, gone.body.error], [404, 'queue_not_found'], 'a deleted push URL no longer reaches the user');
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
    t.same(read.body.messages, [json.body, form.body], 'the same envelope over HTTP as the publish answered');
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
      ['missing token', () => api.request('GET', q), 401, 'missing_token'],
      ['unknown token', () => api.request('GET', q, { headers: { 'x-auth-token': 'f'.repeat(32) } }), 401, 'invalid_token'],
      ["another user's token", () => api.request('GET', q, { headers: { 'x-auth-token': stranger.token } }), 403, 'forbidden'],
      ["marker with another user's token", () => api.request('PUT', q, { headers: { 'x-auth-token': stranger.token } }), 403, 'forbidden'],
      ["delete with another user's token", () => api.request('DELETE', `${q}?token=${stranger.token}`), 403, 'forbidden'],
      ['bad since', () => api.request('GET', `${q}?since=yesterday`, { headers: auth }), 400, 'bad_since'],
      ["since: another user's key", () => api.request('GET', `${q}?since=${'0'.repeat(11)}f${'0'.repeat(11)}1`, { headers: auth }), 400, 'bad_since'],
      ['limit zero', () => api.request('GET', `${q}?limit=0`, { headers: auth }), 400, 'bad_limit'],
      ['limit too large', () => api.request('GET', `${q}?limit=100000`, { headers: auth }), 400, 'bad_limit'],
      ['limit not a number', () => api.request('GET', `${q}?limit=ten`, { headers: auth }), 400, 'bad_limit'],
      ['bad marker timestamp', () => api.request('PUT', q, { json: { timestamp: 'noon' }, headers: auth }), 400, 'invalid_field'],
      ['unknown action', () => api.request('POST', `${q}?action=star`, { headers: auth }), 400, 'bad_action'],
      ['read without key', () => api.request('POST', `${q}?action=read`, { headers: auth }), 400, 'bad_key'],
      ['read of an unknown key', () => api.request('POST', `${q}?action=read&key=${'0'.repeat(24)}`, { headers: auth }), 400, 'bad_key'],
      ['read without token', () => api.request('POST', `${q}?action=read&key=${'0'.repeat(24)}`), 401, 'missing_token'],
      ['queue without domain', () => api.request('POST', '/queue/', { json: { token } }), 400, 'invalid_field'],
      ['queue with unknown token', () => api.request('POST', '/queue/', { json: { token: 'nope', domain: 'a.example' } }), 401, 'invalid_token'],
      ['list queues without token', () => api.request('GET', '/queue/'), 401, 'missing_token'],
      ['unknown route', () => api.request('GET', '/nothing/here'), 404, 'not_found'],
    ];
    for (const [name, call, status, code] of cases) {
      const result = await call();
      t.equal(result.status, status, `${name}: status`);
      t.equal(result.body?.error, code, `${name}: code`);
      t.type(result.body?.message, 'string', `${name}: message`);
    }
  });
}
