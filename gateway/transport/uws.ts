import { STATUS_CODES } from 'node:http';
import { CloseCode } from '../../sdk/wire.js';
import { answerOf, chooseProtocol, type ClientSocket, type HttpRoutes, type ListenOptions, type SocketHandlers, type Transport, type TransportServer, type HttpAnswer, type Upgrade } from './transport.js';
import type { HttpResponse, ListenSocket, Uws, WebSocket } from './uws-loader.js';

/**
 * uWS user data: uWS copies its properties onto each socket's object at upgrade, so it carries
 * data, not methods, and as few properties as it can (the first three cost 40 bytes a
 * connection, the next three 24 more). The upgrade is read at open and then let go.
 */
interface UserData<S> {
  upgrade: Upgrade | undefined;
  socket: UwsClientSocket<S> | undefined;
}

/**
 * A uWS websocket as a ClientSocket. A class rather than closures: one of these per connection,
 * its methods shared, since idle connections are most of a gateway's memory. uWS throws on any
 * use of a closed socket, so every method checks first.
 */
class UwsClientSocket<S> implements ClientSocket {
  state!: S;
  /** `open`: the open handler returned, so a close from now on runs the close handler at once. One field, not two flags. */
  private status: 'opening' | 'open' | 'closed' = 'opening';

  constructor(private readonly ws: WebSocket<UserData<S>>, private readonly handlers: SocketHandlers<S>) {}

  get closed(): boolean {
    return this.status === 'closed';
  }

  /** A getter, not a field: one field fewer in every socket. */
  get receivers(): number {
    return 1;
  }

  send(frame: string): void {
    if (!this.closed) this.ws.send(frame, false);
  }

  batch(sends: () => void): void {
    if (this.closed) sends();
    else this.ws.cork(sends);
  }

  bufferedAmount(): number {
    return this.closed ? 0 : this.ws.getBufferedAmount();
  }

  subscribe(topic: string): void {
    if (!this.closed) this.ws.subscribe(topic);
  }

  /**
   * uWS queues publishes per subscriber until the end of the event-loop turn, and unsubscribing
   * discards what is still queued. Any send flushes that queue first; a ping is the one send a
   * client never sees (it answers with a pong on its own).
   */
  unsubscribe(topic: string): void {
    if (this.closed) return;
    this.ws.ping();
    this.ws.unsubscribe(topic);
  }

  close(code: number, reason: string): void {
    if (this.status === 'closed') return;
    const opened = this.status === 'open';
    this.status = 'closed';
    this.ws.end(code, reason);
    if (opened) this.handlers.close(this.state);
  }

  /** uWS says the socket closed (whoever closed it). */
  closedByUws(): void {
    if (this.status === 'closed') return;
    this.status = 'closed';
    this.handlers.close(this.state);
  }

  start(upgrade: Upgrade): void {
    this.state = this.handlers.open(this, upgrade);
    // Closed while opening (say, refused at once): the close handler still runs, once.
    if (this.status === 'closed') this.handlers.close(this.state);
    else this.status = 'open';
  }
}

function answer(res: HttpResponse, route: HttpRoutes[string] | undefined): void {
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
  });
  void answerOf(route).then((answered) => {
    if (!aborted) res.cork(() => writeAnswer(res, answered).end(answered.body));
  });
}

/** Status and headers of an answer; the caller ends it with the body. */
function writeAnswer(res: HttpResponse, { status, contentType, headers = {} }: HttpAnswer): HttpResponse {
  res.writeStatus(`${status} ${STATUS_CODES[status]}`).writeHeader('content-type', contentType);
  for (const [name, value] of Object.entries(headers)) res.writeHeader(name, value);
  return res;
}

/** Native uWebSockets.js: topics published in C++, one write per socket per event-loop turn. */
export class UwsTransport implements Transport {
  readonly name = 'uws';
  readonly description: string;

  constructor(private readonly uws: Uws, packageName: string) {
    this.description = `uWebSockets.js (${packageName})`;
  }

  async listen<S>(options: ListenOptions, handlers: SocketHandlers<S>, routes: HttpRoutes): Promise<TransportServer> {
    const app = this.uws.App().ws<UserData<S>>('/*', {
      // uWS drops a frame past maxPayloadLength without a close frame (the client sees 1006).
      // Up to 4× the limit we read it and close with 1009, as `ws` does, so clients learn why.
      maxPayloadLength: options.maxFrameBytes * 4,
      idleTimeout: options.idleTimeoutSeconds,
      sendPingsAutomatically: true,
      maxBackpressure: options.maxBufferedBytes,
      closeOnBackpressureLimit: 1,
      upgrade: (res, req, context) => {
        const address = handlers.clientAddress(Buffer.from(res.getRemoteAddressAsText()).toString(), req.getHeader('x-forwarded-for') || undefined);
        const refusal = handlers.admit(address);
        if (refusal) return void res.cork(() => writeAnswer(res, refusal).end(refusal.body, true));
        const protocol = chooseProtocol(req.getHeader('sec-websocket-protocol'));
        res.upgrade<UserData<S>>({ upgrade: { query: req.getQuery() ?? '', address, protocol }, socket: undefined },
          req.getHeader('sec-websocket-key'), protocol, req.getHeader('sec-websocket-extensions'), context);
      },
      open: (ws) => {
        const data = ws.getUserData();
        const upgrade = data.upgrade!;
        data.upgrade = undefined;
        data.socket = new UwsClientSocket(ws, handlers);
        data.socket.start(upgrade);
      },
      message: (ws, message, isBinary) => {
        const socket = ws.getUserData().socket!;
        if (message.byteLength > options.maxFrameBytes) return socket.close(CloseCode.tooLarge, 'Max payload size exceeded');
        handlers.message(socket.state, isBinary ? null : Buffer.from(message).toString('utf8'));
      },
      drain: (ws) => handlers.drain(ws.getUserData().socket!.state),
      close: (ws) => ws.getUserData().socket!.closedByUws(),
    });
    for (const [path, route] of Object.entries(routes)) app.get(path, (res) => answer(res, route));
    app.any('/*', (res) => answer(res, undefined));

    const listenSocket = await new Promise<ListenSocket>((resolve, reject) => {
      app.listen(options.host, options.port, (socket) => (socket ? resolve(socket) : reject(new Error(`cannot listen on ${options.host}:${options.port}`))));
    });
    return {
      port: this.uws.us_socket_local_port(listenSocket as never),
      publish: (topic, frame) => void app.publish(topic, frame, false),
      stopListening: () => this.uws.us_listen_socket_close(listenSocket),
    };
  }
}
