/**
 * The baselines of `npm run bench`, each in its own process like Pushwire's gateway:
 *   node dist/bench/baseline-server.js uws       — bare uWebSockets.js pub/sub (our stack's ceiling), with
 *                                                the build the gateway's uws transport would load
 *   node dist/bench/baseline-server.js socketio  — Socket.IO (what a Node user would pick instead)
 *   node dist/bench/baseline-server.js uws-topics — bare uWebSockets.js, one topic per client
 *                                                (the per-user shape, not durable)
 * Clients connect and join one audience; `POST /publish` sends the posted JSON to all of them,
 * wrapped in an envelope shaped like Pushwire's so every server puts the same bytes on the wire.
 * With uws-topics a client connects to `/?id=N` and `POST /publish/N` reaches only it.
 * Prints `listening <port>` when ready.
 */
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { frame, listen, readBody, topicPerClientApp, uwsBuild } from './uws-parts.js';

function startUws(): void {
  const app = uwsBuild().App()
    .ws('/*', { open: (ws) => void ws.subscribe('all'), idleTimeout: 60 })
    .post('/publish', (res) => readBody(res, (body) => {
      app.publish('all', frame(body), false);
      res.cork(() => res.end('{}'));
    }));
  listen(app);
}

function startUwsTopics(): void {
  const app = topicPerClientApp()
    .post('/publish/:id', (res, req) => {
      const topic = `c${req.getParameter(0)}`;
      readBody(res, (body) => {
        app.publish(topic, frame(body), false);
        res.cork(() => res.end('{}'));
      });
    });
  listen(app);
}

function startSocketIo(): void {
  const server = createServer();
  const io = new Server(server, { transports: ['websocket'], perMessageDeflate: false });
  io.on('connection', (socket) => void socket.join('all'));
  server.on('request', (request, response) => {
    if (request.url !== '/publish') return;
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      io.to('all').emit('message', frame(Buffer.concat(chunks).toString()));
      response.end('{}');
    });
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${(server.address() as { port: number }).port}\n`));
}

if (process.argv[2] === 'socketio') startSocketIo();
else if (process.argv[2] === 'uws-topics') startUwsTopics();
else startUws();
