import fc from 'fast-check';
import t, { type Test } from 'tap';
import WebSocket from 'ws';
import { buildApi } from '../api/app.js';
import { loadConfig } from '../core/config.js';
import { errorCatalogue } from '../core/errors.js';
import { createLogger } from '../core/log.js';
import { Http, sleep } from './helpers/client.js';
import { Contract } from './helpers/contract.js';
import { startEmbedded, type System } from './helpers/system.js';

/**
 * Property-based fuzzing of every HTTP route the api serves and of the websocket protocol, against
 * running systems: whatever arrives, the answer is never a 5xx, an error is always
 * `{"error": code, "message": ...}` with a documented code and its documented status, a websocket
 * only closes with a documented code, and no log line holds a secret. Bounded by run counts and
 * a time limit per property.
 */

const ADMIN = 'fuzz-admin-token-0123456789';
const MOXIE_KEY = 'fuzz-moxie-key';
const MOXIE_SECRET = 'fuzz-moxie-secret-do-not-log';
const RUNS = 400;
const TIME_LIMIT_MS = 25_000;

interface Route {
  method: string;
  /** With `:name` and `*` placeholders. */
  path: string;
}

/** Every route of the api, read from fastify's own route tree (so a new route is fuzzed without being listed here). */
async function apiRoutes(): Promise<Route[]> {
  const unused = {} as never;
  const app = await buildApi({
    config: loadConfig({ PUSHWIRE_PROFILE: 'test' }), store: unused, devices: unused, outbox: unused, applications: unused, nodes: unused,
    publisher: unused, queues: unused, providers: unused, moxie: unused, nonces: unused, rateLimitRedis: null, activity: unused,
  }, createLogger('fuzz', 'silent'));
  await app.ready();
  const tree = app.printRoutes({ commonPrefix: false });
  await app.close();
  const routes: Route[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const found = /^((?:│ {3}| {4})*)[├└]── (.*?) \(([A-Z, ]+)\)$/.exec(line);
    if (!found) continue;
    const depth = found[1].length / 4;
    stack.length = depth;
    stack[depth] = found[2];
    for (const method of found[3].split(', ')) if (method !== 'HEAD') routes.push({ method, path: stack.join('') });
  }
  return routes;
}

/** Pushlet's error types that are not Pushwire codes (its errors nest `{type, message}` under `error`). */
const PUSHLET_OWN_TYPES = new Set(['access denied', 'not_found', 'unexpected_error']);
const documented = new Map(Object.entries(errorCatalogue).map(([code, [status]]) => [code, status]));

/** Percent-encodes UTF-8 bytes (a lone surrogate as U+FFFD, as browsers do), never throwing as encodeURIComponent does. */
const percent = (text: string) => [...Buffer.from(text)].map((byte) => (/[A-Za-z0-9\-_.~]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).padStart(2, '0').toUpperCase()}`)).join('');

/** What may stand in a path parameter, a query value or a header: real values, edge cases and noise. */
function values(real: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(...real),
    fc.constantFrom('', '0', '-1', '1e400', 'Infinity', 'NaN', '9'.repeat(30), '%00', '\u0000', '\ud800', '..', '../..', 'null', 'true', '[]', '{}', 'a'.repeat(300)),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.nat().map(String),
  );
}

const contentTypes = fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/plain', 'application/json; charset=utf-16', 'garbage', '');

function bodies(real: string[]): fc.Arbitrary<string> {
  const field = fc.constantFrom('title', 'body', 'token', 'domain', 'ttl', 'replaceId', 'messages', 'queue', 'message', 'platform', 'subscription', 'endpoint', 'keys', 'since', 'limit', 'app', 'alert', 'device_token', 'type', 'data', 'application_id');
  const anyJson = fc.jsonValue({ maxDepth: 3 });
  const object = fc.dictionary(field, fc.oneof(anyJson, values(real)), { maxKeys: 6 });
  return fc.oneof(
    object.map((o) => JSON.stringify(o)),
    anyJson.map((v) => JSON.stringify(v)),
    fc.record({ messages: fc.array(fc.record({ queue: fc.oneof(values(real), anyJson), message: fc.oneof(object, anyJson) }, { requiredKeys: [] }), { maxLength: 5 }) }).map((o) => JSON.stringify(o)),
    object.map((o) => new URLSearchParams(Object.entries(o).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])).toString()),
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.constant('--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb'),
    fc.constant(''),
  );
}

async function fuzzHttp(t: Test, system: System, routes: Route[]): Promise<string[]> {
  const api = new Http(system.apiUrl);
  const user = await api.user();
  const queueName = new URL(user.queue).pathname.split('/')[2];
  const message = await api.publish(user.queue, { title: 'fuzz' });
  const secrets = [user.token, queueName, new URL(user.own).pathname.split('/')[2], ADMIN, MOXIE_SECRET];
  const real = [user.token, queueName, message.key, 'default', '1'];
  const contract = (await Contract.of(system.apiUrl))!;
  const request = fc.record({
    route: fc.constantFrom(...routes),
    params: fc.array(values(real), { minLength: 4, maxLength: 4 }),
    query: fc.dictionary(fc.constantFrom('token', 'since', 'limit', 'action', 'key', 'timestamp', 'app', 'x'), values(real), { maxKeys: 3 }),
    token: fc.option(values(real), { nil: undefined }),
    authorization: fc.option(fc.oneof(fc.constant(`Bearer ${ADMIN}`), values(real)), { nil: undefined }),
    contentType: contentTypes,
    body: bodies(real),
  });
  const failures: string[] = [];
  await fc.assert(fc.asyncProperty(request, async ({ route, params, query, token, authorization, contentType, body }) => {
    let index = 0;
    const path = route.path.replace(/:[a-z]+|\*/gi, () => percent(params[index++ % params.length]));
    const search = new URLSearchParams(query).toString();
    const headers: Record<string, string> = {};
    if (contentType) headers['content-type'] = contentType;
    if (token !== undefined && /^[\x20-\x7e]*$/.test(token)) headers['x-auth-token'] = token;
    if (authorization !== undefined && /^[\x20-\x7e]*$/.test(authorization)) headers.authorization = authorization;
    const hasBody = route.method !== 'GET' && route.method !== 'DELETE' && route.method !== 'OPTIONS';
    const url = `${system.apiUrl}${path.startsWith("/") ? "" : "/"}${path}${search ? `?${search}` : ''}`;
    const response = await fetch(url, { method: route.method, headers, body: hasBody ? body : undefined });
    const text = await response.text();
    const where = `${route.method} ${path}?${search} ${contentType} ${JSON.stringify(body).slice(0, 200)} → ${response.status} ${text.slice(0, 200)}`;
    if (response.status >= 500) throw new Error(`a 5xx: ${where}`);
    const problems = contract.problems({
      method: route.method, url: new URL(response.url || url), requestType: contentType, requestText: hasBody ? body : undefined,
      status: response.status, responseType: response.headers.get('content-type') ?? '', responseText: text, errorCode: response.headers.get('pushwire-error'),
    });
    if (problems.length) throw new Error(`not as the OpenAPI document says: ${problems.join('; ')} (${where})`);
    if (response.status >= 400) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new Error(`an error that is not JSON: ${where}`);
      }
      // Its shape is the document's (Error, or Pushlet's own), checked above; here its code and status.
      const { error } = parsed as Record<string, unknown>;
      if (typeof error === 'string') {
        if (documented.get(error) !== response.status) throw new Error(`an undocumented code or status: ${where}`);
      } else {
        const type = (error as { type?: unknown } | undefined)?.type;
        if (typeof type !== 'string' || !(documented.has(type) || PUSHLET_OWN_TYPES.has(type))) throw new Error(`an error not in a documented shape: ${where}`);
      }
    }
  }), { numRuns: RUNS, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false, includeErrorInReport: true }).catch((error: Error) => failures.push(error.message));
  t.same(failures, [], `${routes.length} routes fuzzed: no 5xx, every error documented and in shape`);
  return secrets;
}

const CLOSE_CODES = new Set([1000, 1001, 1009, 1011, 4001, 4002, 4003, 4008]);

async function fuzzWebsocket(t: Test, system: System): Promise<void> {
  const api = new Http(system.apiUrl);
  const user = await api.user();
  const message = await api.publish(user.queue, { title: 'fuzz' });
  const real = [user.token, message.key];
  const frame = fc.oneof(
    fc.dictionary(fc.constantFrom('type', 'token', 'since', 'limit', 'key'), fc.oneof(values(real), fc.jsonValue({ maxDepth: 2 })), { maxKeys: 4 }).map((o) => JSON.stringify(o)),
    fc.constantFrom('{"type":"ping"}', '{"type":"fetch"}', `{"type":"ack","key":"${message.key}"}`, '{"type":"ack","key":"x"}', `token: ${user.token}`, 'token: ', '{', '[]', 'null'),
    fc.string({ unit: 'binary', maxLength: 300 }),
  );
  const session = fc.record({ authenticate: fc.boolean(), frames: fc.array(frame, { minLength: 1, maxLength: 5 }) });
  const failures: string[] = [];
  // At the time limit fast-check stops awaiting the run in progress, which goes on: its sentinel
  // publishes must then stop, and not fail against a system being stopped.
  let fuzzingOver = false;
  await fc.assert(fc.asyncProperty(session, async ({ authenticate, frames }) => {
    const socket = new WebSocket(system.wsUrl);
    const errors: string[] = [];
    const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
    socket.on('error', () => {});
    socket.on('message', (data) => {
      const parsed = JSON.parse(String(data)) as { type: string; error?: string };
      if (parsed.type === 'error' && !documented.has(parsed.error!)) errors.push(`undocumented error frame ${String(data)}`);
    });
    await new Promise((resolve) => socket.on('open', resolve));
    if (authenticate) socket.send(JSON.stringify({ token: user.token }));
    for (const text of frames) socket.send(text);
    // The sentinel: a ping answered, a message (a socket in the original dialect answers nothing
    // else: its user is sent messages until one arrives), or the close that ended the session.
    socket.send('{"type":"ping"}');
    const answered = new Promise<number>((resolve) => socket.on('message', (data) => /"pong"|"key"/.test(String(data)) && resolve(0)));
    let settled = false;
    const sentinels = (async () => {
      for (let tries = 0; tries < 50 && !settled && !fuzzingOver; tries++) {
        await sleep(200);
        if (!settled && !fuzzingOver) {
          await api.publish(user.queue, { title: 'sentinel' }).catch((error: unknown) => {
            if (!fuzzingOver) throw error;
          });
        }
      }
    })();
    const code = await Promise.race([closed, answered, sleep(15_000).then(() => -1)]);
    settled = true;
    await sentinels;
    socket.terminate();
    if (code === -1) throw new Error(`no answer, message or close within 15 s after ${JSON.stringify(frames)}`);
    if (code !== 0 && !CLOSE_CODES.has(code)) throw new Error(`closed with ${code} after ${JSON.stringify(frames)}`);
    if (errors.length) throw new Error(errors.join('; '));
  }), { numRuns: 150, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false, includeErrorInReport: true }).catch((error: Error) => failures.push(error.message));
  fuzzingOver = true;
  t.same(failures, [], 'websocket frames fuzzed: documented close codes and error frames only');
}

function fuzzSuite(t: Test, name: string, start: () => Promise<System>): void {
  t.test(name, async (t) => {
    const system = await start();
    t.teardown(() => system.stop());
    const routes = await apiRoutes();
    t.ok(routes.length >= 30, `${routes.length} routes`);
    const secrets = await fuzzHttp(t, system, routes);
    await fuzzWebsocket(t, system);
    const lines = system.output().split('\n');
    for (const secret of secrets) {
      const leak = lines.find((line) => line.includes(secret));
      t.notOk(leak, `no log line holds the secret ${secret.slice(0, 4)}…${leak ? `: ${leak.slice(0, 400)}` : ''}`);
    }
  });
}

const env = { PUSHWIRE_ADMIN_TOKEN: ADMIN, PUSHWIRE_MOXIE_USERS: `${MOXIE_KEY}:${MOXIE_SECRET}`, PUSHWIRE_LOG_LEVEL: 'debug', PUSHWIRE_PUSHLET_USER: 'fuzz', PUSHWIRE_PUSHLET_PASSWORD: 'fuzz-pushlet-password' };
fuzzSuite(t, 'npm start (embedded SQLite)', () => startEmbedded(env));
fuzzSuite(t, 'one process on PostgreSQL and Redis', () => startEmbedded(env, { store: 'postgres' }));
