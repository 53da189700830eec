import uws from '@trufflesuite/uws-js-unofficial';

/**
 * The ceiling of our stack: a bare uWebSockets.js pub/sub server. Clients connect and are
 * subscribed to one topic; `POST /publish` sends the posted JSON to every subscriber, wrapped
 * in an envelope shaped like Pushwire's so both put the same bytes on the wire.
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
        const frame = `{"type":"message","key":"${'0'.repeat(24)}","timestamp":"${(Date.now() / 1000).toFixed(6)}",`
          + `"queue":"http://127.0.0.1:5001/queue/${'0'.repeat(32)}/","body":${body.toString()}}`;
        app.publish('all', frame, false);
        res.cork(() => res.end('{}'));
      });
    });
  const socket = await new Promise<uws.us_listen_socket>((resolve, reject) =>
    app.listen('127.0.0.1', 0, (listen) => (listen ? resolve(listen) : reject(new Error('cannot listen')))));
  const port = uws.us_socket_local_port(socket as never);
  return { url: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}/`, close: () => uws.us_listen_socket_close(socket) };
}
