import net from 'node:net';
import t, { type Test } from 'tap';
import { Http } from './helpers/client.js';
import { startEmbedded, startMultiprocess, type System } from './helpers/system.js';

/** Short HTTP deadlines, so slow senders are cut within the test's patience. */
const TIMEOUTS = { PUSHWIRE_HTTP_HEADERS_TIMEOUT_MS: '1000', PUSHWIRE_HTTP_REQUEST_TIMEOUT_MS: '2000' };

/** Writes `sent` on a raw connection (then nothing more) and reads until the server closes it. */
function raw(url: string, sent: string): Promise<{ answer: string; ms: number }> {
  const { hostname, port } = new URL(url);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) }, () => socket.write(sent));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', () => {});
    socket.on('close', () => resolve({ answer, ms: performance.now() - started }));
    socket.setTimeout(20_000, () => reject(new Error(`no answer within 20 s to ${JSON.stringify(sent.slice(0, 60))}`)));
  });
}

const bodyOf = (answer: string) => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { error: string; message: string };

function hostileHttpSuite(t: Test, name: string, start: () => Promise<System>): void {
  t.test(name, async (t) => {
    const system = await start();
    t.teardown(() => system.stop());
    const api = new Http(system.apiUrl);
    const { queue } = await api.user();
    const path = new URL(queue).pathname;

    await t.test('slow senders get 408 in the documented shape and lose their connection; everyone else is served meanwhile', async (t) => {
      const slowBodies = Array.from({ length: 40 }, () =>
        raw(system.apiUrl, `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"title":`));
      const slowHeaders = Array.from({ length: 40 }, () => raw(system.apiUrl, `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Ty`));
      // While the 80 are held: health and a publish answer at once.
      t.equal((await api.request('GET', '/health')).status, 200, '/health answers while slow senders hold connections');
      t.equal((await api.request('POST', path, { json: { title: 'served' } })).status, 200, 'a publish is served meanwhile');
      for (const [kind, pending] of [['body', slowBodies], ['headers', slowHeaders]] as const) {
        const answers = await Promise.all(pending);
        t.ok(answers.every(({ answer }) => answer.startsWith('HTTP/1.1 408 ')), `every slow ${kind} got 408`);
        t.same(new Set(answers.map(({ answer }) => bodyOf(answer).error)), new Set(['request_timeout']), `slow ${kind}: {"error": "request_timeout"}`);
        const slowest = Math.max(...answers.map(({ ms }) => ms));
        t.ok(slowest < 10_000, `slow ${kind} cut within the deadline and a check interval (slowest ${Math.round(slowest)} ms)`);
      }
    });

    await t.test('headers too large: 431 headers_too_large; not HTTP at all: 400 bad_request; both in the documented shape', async (t) => {
      const large = await raw(system.apiUrl, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
      t.match(large.answer, /^HTTP\/1\.1 431 /);
      t.equal(bodyOf(large.answer).error, 'headers_too_large');
      const garbage = await raw(system.apiUrl, 'HELLO THERE\r\n\r\n');
      t.match(garbage.answer, /^HTTP\/1\.1 400 /);
      t.same(Object.keys(bodyOf(garbage.answer)), ['error', 'message', 'status', 'errors']);
      t.equal(bodyOf(garbage.answer).error, 'bad_request');
      t.equal((await api.request('GET', '/health')).status, 200, 'still serving');
    });

    await t.test('URLs the router refuses: bad percent-encoding 400 bad_request, a path segment over 128 characters 414 uri_too_long', async (t) => {
      const badEncoding = await api.request('GET', '/queue/%ZZ/');
      t.same([badEncoding.status, Object.keys(badEncoding.body), badEncoding.body.error], [400, ['error', 'message', 'status', 'errors'], 'bad_request']);
      const long = await api.request('POST', `/queue/${'a'.repeat(300)}/`, { json: { title: 'x' } });
      t.same([long.status, Object.keys(long.body), long.body.error], [414, ['error', 'message', 'status', 'errors'], 'uri_too_long']);
      const huge = await api.request('DELETE', '/devices/99999999999999999999999/', { headers: { 'x-auth-token': (await api.user()).token } });
      t.same([huge.status, huge.body.error], [400, 'invalid_field'], 'an id no column holds is a 400, not a database error');
    });
  });
}

hostileHttpSuite(t, 'npm start (embedded)', () => startEmbedded(TIMEOUTS));
hostileHttpSuite(t, 'circus.ini processes', () => startMultiprocess(TIMEOUTS));

t.test('the gateway on the ws transport (node:http): slow senders cut with 408, garbage 400, in the documented shape', async (t) => {
  const system = await startEmbedded({ ...TIMEOUTS, PUSHWIRE_GATEWAY_TRANSPORT: 'ws' });
  t.teardown(() => system.stop());
  const gateway = system.wsUrl.replace(/^ws:/, 'http:');
  const slow = await Promise.all(Array.from({ length: 20 }, () => raw(gateway, 'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websock')));
  t.ok(slow.every(({ answer }) => answer.startsWith('HTTP/1.1 408 ') && bodyOf(answer).error === 'request_timeout'), 'every slow upgrade got 408 request_timeout');
  t.ok(Math.max(...slow.map(({ ms }) => ms)) < 10_000, 'cut within the deadline and a check interval');
  const garbage = await raw(gateway, 'HELLO THERE\r\n\r\n');
  t.match(garbage.answer, /^HTTP\/1\.1 400 /);
  t.equal(bodyOf(garbage.answer).error, 'bad_request');
});
