import http from 'node:http';
import t from 'tap';
import { eventually, Http } from './helpers/client.js';
import { startEmbedded } from './helpers/system.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

/** A raw POST on a connection of its own, so nothing but what is given is sent. */
function post(url: string, body: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: JSON.parse(text) as Record<string, unknown> }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

/** What must be the same whichever way a publish was answered: all but the date and the new message's own key and time. */
function comparable(answer: Answer): unknown {
  const { date: _date, ...headers } = answer.headers;
  const { key, timestamp, messages, ...body } = answer.body as { key?: string; timestamp?: string; messages?: { key: string; timestamp: string }[] };
  // messages[0] repeats the answer's own key and timestamp (the original service's field).
  const repeats = messages === undefined ? 'none' : messages.length === 1 && messages[0].key === key && messages[0].timestamp === timestamp;
  return { status: answer.status, headers, body, key: typeof key, timestamp: typeof timestamp, repeats };
}

t.test('the publish lane answers exactly as the publish route, and takes only what it should', async (t) => {
  const system = await startEmbedded({ PUSHWIRE_LOG_LEVEL: 'debug' });
  t.teardown(() => system.stop());
  const { queue } = await new Http(system.apiUrl).user();
  const bodies: [string, string][] = [
    ['a title', '{"title":"hello"}'],
    ['every field', JSON.stringify({ title: 't', body: 'b', actionUrl: 'https://example.com/a', iconUrl: 'https://example.com/i.png', replaceId: 'r1', ttl: 60, priority: 'high' })],
    ['a field it does not know (dropped)', '{"title":"t","colour":"red"}'],
    ['charset in the content type', '{"title":"t"}'],
    ['no title', '{"body":"b"}'],
    ['an empty title', '{"title":""}'],
    ['a NUL', '{"title":"a\\u0000b"}'],
    ['a lone surrogate', '{"title":"a\\ud800b"}'],
    ['a ttl beyond the maximum', '{"title":"t","ttl":99999999999}'],
    ['a javascript: action URL', '{"title":"t","actionUrl":"javascript:alert(1)"}'],
    ['not JSON', '{"title":'],
    ['an array', '[{"title":"t"}]'],
    ['null', 'null'],
    ['a number', '42'],
  ];
  const queuePath = new URL(queue).pathname;
  let laneRequests = 0;
  for (const [name, body] of bodies) {
    const headers: Record<string, string> = name === 'charset in the content type' ? { 'content-type': 'application/json; charset=utf-8' } : {};
    const viaLane = await post(`${system.apiUrl}${queuePath}`, body, headers);
    laneRequests += 1;
    // A query string sends the same publish to Fastify's route.
    const viaRoute = await post(`${system.apiUrl}${queuePath}?via=route`, body, headers);
    t.same(comparable(viaLane), comparable(viaRoute), `${name}: ${viaLane.status} both ways`);
  }
  const unknown = `${system.apiUrl}/queue/${'0'.repeat(32)}/`;
  const notFound = [await post(unknown, '{"title":"t"}'), await post(`${unknown}?via=route`, '{"title":"t"}')];
  laneRequests += 1;
  t.same(comparable(notFound[0]), comparable(notFound[1]), 'an unknown queue: 404 both ways');
  t.equal(notFound[0].status, 404);

  // Not the lane's: a browser (Origin), a form, no trailing part of the path it knows.
  const others = [
    await post(`${system.apiUrl}${queuePath}`, '{"title":"t"}', { origin: 'https://site.example' }),
    await post(`${system.apiUrl}${queuePath}`, 'title=t', { 'content-type': 'application/x-www-form-urlencoded' }),
    await post(`${system.apiUrl}${queuePath.slice(0, -1)}`, '{"title":"t"}', { 'content-type': 'APPLICATION/JSON' }),
  ];
  t.same(others.map((answer) => answer.status), [200, 200, 200], 'the route serves what the lane leaves');
  t.equal(others[0].headers['access-control-allow-origin'], '*', 'with its CORS answer to a browser');

  // Each request logs one line at debug, by its route's pattern; the lane's say so.
  const publishLines = () => system.output().split('\n').filter((line) => line.includes('"msg":"request"') && line.includes('"route":"/queue/:queue/"'))
    .map((line) => JSON.parse(line) as { lane?: boolean; req: { method: string } });
  const routeRequests = bodies.length + 1 + others.length;
  await eventually(() => publishLines().length >= laneRequests + routeRequests);
  const lines = publishLines().filter((line) => line.req.method === 'POST');
  t.equal(lines.filter((line) => line.lane).length, laneRequests, `${laneRequests} answered by the lane`);
  t.equal(lines.filter((line) => !line.lane).length, routeRequests, `${routeRequests} by the route`);
  t.notOk(system.output().includes(queuePath), 'the queue\'s name is in no log line');
});
