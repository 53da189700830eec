/**
 * What the baselines share (baseline-server.ts, durable-floor-server.ts): the frame they send, the
 * build the gateway's uws transport would load, a websocket route with a topic per client (`/?id=N`
 * subscribes `cN`), a POST body read whole, and the `listening <port>` line their parents wait for.
 */
import { loadUws, type HttpResponse, type TemplatedApp } from '../gateway/transport/uws-loader.js';

/** The posted JSON in an envelope shaped like Pushwire's, so every server puts the same bytes on the wire. */
export const frame = (body: string, key = '0'.repeat(24)) => `{"type":"message","key":"${key}","timestamp":"${(Date.now() / 1000).toFixed(6)}",`
  + `"queue":"http://127.0.0.1:5001/queue/${'0'.repeat(32)}/","body":${body}}`;

export function uwsBuild(): NonNullable<ReturnType<typeof loadUws>['uws']> {
  const { uws } = loadUws();
  if (!uws) throw new Error(`no uWebSockets.js build loads on Node ${process.version}`);
  return uws;
}

/** An app whose websocket clients each join the topic of their `id`. */
export function topicPerClientApp(): TemplatedApp {
  return uwsBuild().App()
    .ws<{ id: string }>('/*', {
      idleTimeout: 60,
      upgrade: (res, req, context) => res.upgrade({ id: req.getQuery('id') ?? '' }, req.getHeader('sec-websocket-key'),
        req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context),
      open: (ws) => void ws.subscribe(`c${ws.getUserData().id}`),
    });
}

/** Reads a request's body whole; `isAborted` says whether the client went away meanwhile (then nothing may be written). */
export function readBody(res: HttpResponse, then: (body: string, isAborted: () => boolean) => void): void {
  let body = Buffer.alloc(0);
  let aborted = false;
  res.onAborted(() => void (aborted = true));
  res.onData((chunk, last) => {
    body = Buffer.concat([body, Buffer.from(chunk)]);
    if (last) then(body.toString(), () => aborted);
  });
}

export function listen(app: TemplatedApp): void {
  app.listen('127.0.0.1', 0, (socket) => {
    if (!socket) throw new Error('cannot listen');
    process.stdout.write(`listening ${uwsBuild().us_socket_local_port(socket as never)}\n`);
  });
}
