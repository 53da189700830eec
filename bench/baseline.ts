import uws from '@trufflesuite/uws-js-unofficial';

/**
 * The ceiling of our stack: a bare uWebSockets.js pub/sub server. Clients connect and are
 * subscribed to one topic; `POST /publish` sends the request body to every subscriber.
 */
export async function startBareUws(): Promise<{ url: string; wsUrl: string; close(): void }> {
  const app = uws.App()
    .ws('/*', { open: (ws) => void ws.subscribe('all'), idleTimeout: 60 })
    .post('/publish', (res) => {
      let body = Buffer.alloc(0);
      res.onAborted(() => {});
      res.onData((chunk, last) => {
        body = Buffer.concat([body, Buffer.from(chunk)]);
        if (!last) return;
        app.publish('all', body.toString(), false);
        res.cork(() => res.end('{}'));
      });
    });
  const socket = await new Promise<uws.us_listen_socket>((resolve, reject) =>
    app.listen('127.0.0.1', 0, (listen) => (listen ? resolve(listen) : reject(new Error('cannot listen')))));
  const port = uws.us_socket_local_port(socket as never);
  return { url: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}/`, close: () => uws.us_listen_socket_close(socket) };
}
