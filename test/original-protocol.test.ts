import t, { type Test } from 'tap';
import { startEmbedded, startMultiprocess, type System } from './helpers/system.js';
import { OriginalClient } from './original-protocol/client.js';

/**
 * A client written for Mozilla's original push service runs its whole flow unchanged (see
 * test/original-protocol/SPEC.md: the original's client.py, views and tests), against `npm start`
 * and against circus.ini's processes.
 */
function originalFlow(t: Test, name: string, start: () => Promise<System>): void {
  t.test(name, async (t) => {
    const system = await start();
    t.teardown(() => system.stop());
    const client = new OriginalClient(system.apiUrl);
    t.teardown(() => client.close());

    await client.newToken();
    t.match(client.token, /^[0-9a-f]+$/, 'POST /token/: a token');
    t.match(client.own, new RegExp(`^${system.apiUrl}/queue/[0-9a-f]+/$`), 'and the user\'s own queue');
    t.equal((await client.request('GET', `/queue/?token=${client.token}`)).text, '{}', 'no push URLs yet: {} exactly');
    const { json: nodes } = await client.request('GET', '/nodes/');
    const node = (nodes!.nodes as string[])[0];
    t.match(node, /^[^/]+:\d+$/, '/nodes/: host:port');
    await client.listen(node);

    const created = await client.request('POST', '/queue/', { token: client.token, domain: 'example.com' });
    t.equal(created.status, 200);
    const pushUrl = String(created.json!.queue);
    const answers = [];
    for (const title of ['message one', 'message two', 'message three']) {
      const posted = await client.request('POST', pushUrl, { title, body: 'ok' });
      t.equal(posted.status, 200, `posted ${title}`);
      t.match(posted.json, { status: 'ok', messages: [{ key: String, timestamp: String }] }, 'answered as the original: status and messages[0]');
      answers.push((posted.json!.messages as { key: string }[])[0].key);
    }
    const frames = await client.waitForFrames(3);
    t.same(frames.map((frame) => frame.key), answers, 'the socket got the three, in order');
    t.ok(frames.every((frame) => Object.keys(frame).sort().join() === 'body,key,queue,timestamp'), 'each a bare envelope: key, timestamp, queue, body');
    t.same(frames.map((frame) => frame.queue), [pushUrl, pushUrl, pushUrl], 'naming the push URL it was sent to');

    const read = await client.request('GET', client.own);
    t.equal(read.status, 200, 'the own queue, by its URL alone');
    t.same((read.json!.messages as unknown[]), frames, 'GET answers exactly what the socket got');
    const since = await client.request('GET', `${client.own}?since=${String(frames[0].timestamp)}`);
    t.same(since.json!.messages, frames.slice(1), 'since a timestamp: the later ones');
    t.same((await client.request('GET', `/queue/?token=${client.token}`)).json, { 'example.com': pushUrl }, 'the push URL listed by domain');

    const marked = await client.request('POST', client.own, { action: 'read', key: answers[0] });
    t.equal(marked.status, 200, 'marked read with a form body');
    t.equal(marked.json!.status, 'ok');
    const [readMark] = (await client.waitForFrames(4)).slice(3);
    t.same(readMark.body, { read: answers[0] }, 'the read mark reached the socket');
    t.same(((await client.request('GET', client.own)).json!.messages as unknown[]).at(-1), readMark, 'and ends the own queue');
    t.equal((await client.request('POST', client.own, { action: 'read' })).status, 404, 'no key: 404');

    client.send('hello there');
    client.send('{"type":"ping"}');
    const fourth = await client.request('POST', pushUrl, { title: 'after noise' });
    const [after] = (await client.waitForFrames(5)).slice(4);
    t.equal(after.key, (fourth.json!.messages as { key: string }[])[0].key, 'frames it does not understand are ignored: the socket still receives');
    t.equal(client.frames.length, 5, 'and nothing else was sent');
    t.equal(client.closeCode, null);

    const missing = await client.request('POST', '/queue/', { token: client.token });
    t.match([missing.status, missing.json], [400, { status: 'error', errors: [{ location: 'body', name: 'domain' }] }], 'no domain: 400 with cornice\'s error list');
    const noToken = await client.request('GET', '/queue/');
    t.match([noToken.status, noToken.json], [400, { status: 'error', errors: [{ location: 'body', name: 'token' }] }], 'no token: 400');
    const stranger = new OriginalClient(system.apiUrl);
    await stranger.newToken();
    t.equal((await client.request('DELETE', `${pushUrl}?token=${stranger.token}`)).status, 404, 'another token\'s queue: 404, not 403');
    const deleted = await client.request('DELETE', `${pushUrl}?token=${client.token}`);
    t.match([deleted.status, deleted.json], [200, { queue: pushUrl }], 'revoked');
    t.equal((await client.request('POST', pushUrl, { title: 'gone' })).status, 404, 'a revoked push URL: 404');
    t.equal((await client.request('DELETE', `${pushUrl}?token=${client.token}`)).status, 404, 'and again: 404');
    const wrongMethod = await client.request('GET', '/token/');
    t.same([wrongMethod.status, wrongMethod.headers.get('allow')], [405, 'POST'], 'GET /token/: 405');
  });
}

originalFlow(t, 'npm start', () => startEmbedded());
originalFlow(t, 'circus.ini processes', () => startMultiprocess());
