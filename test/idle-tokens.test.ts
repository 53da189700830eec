import t, { type Test } from 'tap';
import WebSocket from 'ws';
import { eventually, Http } from './helpers/client.js';
import { startEmbedded, startMultiprocess, type System } from './helpers/system.js';

/** Tokens expire after 2 s idle, swept every half second. */
const IDLE = { PUSHWIRE_IDLE_TOKEN_TTL: '2', PUSHWIRE_RETENTION_SWEEP_MS: '500' };

function idleTokenSuite(t: Test, name: string, start: () => Promise<System>): void {
  t.test(name, async (t) => {
    const system = await start();
    t.teardown(() => system.stop());
    const api = new Http(system.apiUrl);
    const valid = async (token: string) => (await api.request('GET', `/queue/?token=${token}`)).status;

    const idle = await api.user();
    const connected = await api.user();
    const withQueue = await api.user();
    const polling = await api.user();
    // `api.user()` makes a domain queue: only `withQueue` keeps one.
    for (const user of [idle, connected, polling]) await api.request('DELETE', `${new URL(user.queue).pathname}?token=${user.token}`);

    const socket = new WebSocket(system.wsUrl);
    t.teardown(() => socket.terminate());
    await new Promise<void>((resolve, reject) => {
      socket.on('open', () => socket.send(JSON.stringify({ token: connected.token })));
      socket.on('message', (data) => String(data).startsWith('{"type":"hello"') && resolve());
      socket.on('error', reject);
    });
    const poll = setInterval(() => void valid(polling.token), 300);
    t.teardown(() => clearInterval(poll));

    // Watched through its own queue, which anyone may publish to: using the token would keep it active.
    const publishToIdle = () => api.request('POST', new URL(idle.own).pathname, { json: { title: 'to an idle user' } });
    t.equal((await publishToIdle()).status, 200, 'at first its queue takes messages');
    await eventually(async () => (await publishToIdle()).status === 404, 30_000);
    t.match(await publishToIdle(), { status: 404, body: { error: 'queue_not_found' } }, 'its own queue went with it');
    t.equal(await valid(idle.token), 401, 'the idle token expired');
    // Everyone else outlived it by several periods.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    t.equal(await valid(connected.token), 200, 'a connected user stays');
    t.equal(socket.readyState, WebSocket.OPEN, 'and so does its socket');
    t.equal(await valid(withQueue.token), 200, 'a user with a domain queue stays');
    t.equal(await valid(polling.token), 200, 'a user whose token is in use stays');
  });
}

idleTokenSuite(t, 'npm start (embedded SQLite)', () => startEmbedded(IDLE));
idleTokenSuite(t, 'circus.ini processes', () => startMultiprocess(IDLE));
