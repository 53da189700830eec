import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { WebSocketServer } from 'ws';
import { HttpPoster, openWire, type WireSocket } from '../bench/wire.js';

/** The benchmark's load generator counts deliveries with these clients: they must read what a server sends, exactly. */

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

t.test('HttpPoster: answers in order over kept-alive connections, bodies split across reads, non-200 rejects', async (t) => {
  const sockets = new Set<unknown>();
  const server = http.createServer((request, response) => {
    sockets.add(request.socket);
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk));
    request.on('end', () => {
      if (request.url === '/fail') {
        response.writeHead(413, { 'content-type': 'application/json', 'content-length': 21 });
        return response.end('{"error":"too_large"}');
      }
      if (request.url === '/chunked') return void response.write('{', () => response.end('}'));
      // A long answer, written in two pieces after a delay, so it arrives in more than one read.
      const answer = JSON.stringify({ path: request.url, body, pad: 'é'.repeat(40_000) });
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
      response.write(answer.slice(0, 100));
      setTimeout(() => response.end(answer.slice(100)), 5);
    });
  });
  const port = await listen(server);
  const poster = new HttpPoster();
  t.teardown(() => {
    poster.close();
    server.close();
  });
  const answers = await Promise.all(Array.from({ length: 20 }, (_, k) => poster.post(`http://127.0.0.1:${port}/q/${k}?x=1`, `{"n":${k}}`)));
  answers.forEach((answer, k) => {
    const parsed = JSON.parse(answer) as { path: string; body: string; pad: string };
    t.same([parsed.path, parsed.body, parsed.pad.length], [`/q/${k}?x=1`, `{"n":${k}}`, 40_000], `answer ${k} is its own`);
  });
  await poster.post(`http://127.0.0.1:${port}/again`, '{}');
  t.ok(sockets.size <= 20, `connections are kept alive and reused (${sockets.size} for 21 requests)`);
  await t.rejects(poster.post(`http://127.0.0.1:${port}/fail`, '{}'), /413 \{"error":"too_large"\}/);
  await t.rejects(poster.post(`http://127.0.0.1:${port}/chunked`, '{}'), /an answer without content-length/, 'what it cannot read fails loudly');
});

t.test('openWire: upgrades, sends masked text, reads small, 16-bit, 64-bit and fragmented frames, answers pings, ends on close', async (t) => {
  const server = http.createServer();
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  const pongs: string[] = [];
  wss.on('connection', (socket) => {
    socket.on('pong', (data) => pongs.push(data.toString()));
    socket.on('message', (data) => {
      const first = data.toString();
      socket.send(`echo:${first}`);
      socket.send('x'.repeat(300));
      socket.send('y'.repeat(70_000));
      socket.ping('are you there');
      socket.send('frag-', { fin: false });
      socket.send('ment', { fin: true });
      socket.send('last');
      setTimeout(() => socket.close(4001, 'bye'), 50);
    });
  });
  const port = await listen(server);
  t.teardown(() => {
    wss.close();
    server.close();
  });
  const texts: string[] = [];
  const reason = await new Promise<string>((resolve) => {
    openWire(`ws://127.0.0.1:${port}/path?id=1`, {
      onOpen: (socket: WireSocket) => socket.send(`{"hello":"${'z'.repeat(200)}"}`),
      onText: (text) => texts.push(text),
      onEnd: resolve,
    });
  });
  t.same(texts.map((text) => text.length > 250 ? `${text[0]}×${text.length}` : text),
    [`echo:{"hello":"${'z'.repeat(200)}"}`, 'x×300', 'y×70000', 'frag-ment', 'last']);
  t.same(pongs, ['are you there'], 'a ping is answered with its payload');
  t.equal(reason, 'closed with 4001');
});

t.test('openWire: a refused upgrade ends the socket with the answer', async (t) => {
  const server = http.createServer((_request, response) => response.writeHead(404).end());
  const port = await listen(server);
  t.teardown(() => server.close());
  const reason = await new Promise<string>((resolve) => {
    openWire(`ws://127.0.0.1:${port}/`, { onOpen: () => t.fail('no upgrade'), onText: () => t.fail('no text'), onEnd: resolve });
  });
  t.match(reason, /^upgrade refused: HTTP\/1\.1 404/);
});
