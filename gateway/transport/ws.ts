import { createServer, STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { clientError } from '../../core/http.js';
import { answerOf, chooseProtocol, type ClientSocket, type HttpRoutes, type ListenOptions, type SocketHandlers, type Transport, type TransportServer, type Upgrade } from './transport.js';

/** Node ≥ 22.12 (and 23.1) can share a listening port between processes (SO_REUSEPORT). */
const [major, minor] = process.versions.node.split('.').map(Number);
export const canSharePort = major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);

/** Close reasons are at most 123 bytes on the wire; `ws` throws past that. */
const clip = (reason: string): string => Buffer.from(reason).subarray(0, 123).toString('utf8').replace(/\uFFFD$/, '');

/**
 * Sockets written to in this event-loop iteration, corked until its end. Node writes each
 * frame with its own syscall otherwise; like uWS, we gather a socket's frames of one iteration
 * (a burst of bus messages, a catch-up page) into one write.
 */
const corked: { flush(): void }[] = [];
function flushAll(): void {
  for (const socket of corked) socket.flush();
  corked.length = 0;
}

/** One server's sockets and topics. */
class Sockets<S> {
  readonly open = new Set<WsClientSocket<S>>();
  readonly topics = new Map<string, Set<WsClientSocket<S>>>();

  constructor(readonly handlers: SocketHandlers<S>, readonly maxBufferedBytes: number) {}

  publish(topic: string, frame: string): void {
    const members = this.topics.get(topic);
    if (!members) return;
    // Encoded once; `ws` writes the same bytes to every socket without copying them.
    const data = Buffer.from(frame);
    for (const socket of members) socket.write(data);
  }

  join(topic: string, socket: WsClientSocket<S>): void {
    let members = this.topics.get(topic);
    if (!members) this.topics.set(topic, (members = new Set()));
    members.add(socket);
  }

  leave(topic: string, socket: WsClientSocket<S>): void {
    const members = this.topics.get(topic);
    if (!members?.delete(socket)) return;
    if (members.size === 0) this.topics.delete(topic);
  }
}

/** A `ws` websocket as a ClientSocket. */
class WsClientSocket<S> implements ClientSocket {
  readonly receivers = 1;
  closed = false;
  state!: S;
  opened = false;
  /** Whether the client sent anything (a frame or a pong) since the last idle check. */
  heard = true;
  private topics: string[] = [];
  /** Corked for the rest of this event-loop iteration. */
  private corkedInIteration = false;

  constructor(private readonly ws: WebSocket, private readonly raw: Duplex, private readonly sockets: Sockets<S>) {}

  send(frame: string): void {
    this.write(frame);
  }

  write(data: string | Buffer): void {
    if (this.closed) return;
    this.corkForIteration();
    this.ws.send(data, { binary: false });
    // As uWS's closeOnBackpressureLimit: a client this far behind resumes instead.
    if (this.ws.bufferedAmount > this.sockets.maxBufferedBytes) this.abort();
  }

  /** Every write is gathered until the end of the event-loop iteration already. */
  batch(sends: () => void): void {
    sends();
  }

  private corkForIteration(): void {
    if (this.corkedInIteration) return;
    this.corkedInIteration = true;
    this.raw.cork();
    if (corked.length === 0) setImmediate(flushAll);
    corked.push(this);
  }

  flush(): void {
    this.corkedInIteration = false;
    this.raw.uncork();
  }

  bufferedAmount(): number {
    return this.closed ? 0 : this.ws.bufferedAmount;
  }

  subscribe(topic: string): void {
    if (this.closed || this.topics.includes(topic)) return;
    this.topics.push(topic);
    this.sockets.join(topic, this);
  }

  unsubscribe(topic: string): void {
    const index = this.topics.indexOf(topic);
    if (index < 0) return;
    this.topics.splice(index, 1);
    this.sockets.leave(topic, this);
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.ws.close(code, clip(reason));
    this.ended();
  }

  /** Drops the connection without a close handshake (dead or hopelessly slow client). */
  abort(): void {
    if (this.closed) return;
    this.ws.terminate();
    this.ended();
  }

  /** The socket is gone (closed by us, by the client, or dropped): once. */
  ended(): void {
    if (this.closed) return;
    this.closed = true;
    this.sockets.open.delete(this);
    for (const topic of this.topics) this.sockets.leave(topic, this);
    this.topics = [];
    if (this.opened) this.sockets.handlers.close(this.state);
  }

  start(upgrade: Omit<Upgrade, 'protocol'>): void {
    this.sockets.open.add(this);
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.heard = true;
      if (!this.closed) this.sockets.handlers.message(this.state, isBinary ? null : data.toString('utf8'));
    });
    this.ws.on('pong', () => {
      this.heard = true;
    });
    // An oversized frame or a protocol violation: `ws` closes the socket (1009, 1002) and says why here.
    this.ws.on('error', () => {});
    this.ws.on('close', () => this.ended());
    this.raw.on('drain', () => {
      if (!this.closed) this.sockets.handlers.drain(this.state);
    });
    this.state = this.sockets.handlers.open(this, { ...upgrade, protocol: this.ws.protocol });
    this.opened = true;
    if (this.closed) this.sockets.handlers.close(this.state);
  }

  /** Called every half idle timeout: a socket that said nothing since the last call is dead. */
  checkIdle(): void {
    if (!this.heard) return this.abort();
    this.heard = false;
    this.ws.ping();
  }
}

/** `ws` on node:http: runs on every Node version, at a higher cost per delivery than uWS. */
export class WsTransport implements Transport {
  readonly name = 'ws';
  readonly description = `ws on node:http (Node ${process.version})`;

  async listen<S>(options: ListenOptions, handlers: SocketHandlers<S>, routes: HttpRoutes): Promise<TransportServer> {
    const sockets = new Sockets(handlers, options.maxBufferedBytes);
    const wss = new WebSocketServer({
      noServer: true, maxPayload: options.maxFrameBytes, perMessageDeflate: false, clientTracking: false,
      handleProtocols: (offered) => chooseProtocol([...offered].join(',')) || false,
    });
    const server: Server = createServer({
      headersTimeout: options.httpHeadersTimeoutMs, requestTimeout: options.httpRequestTimeoutMs, connectionsCheckingInterval: 1000,
    }, (request, response) => {
      const path = (request.url ?? '/').split('?')[0];
      const route = request.method === 'GET' ? routes[path] : undefined;
      void answerOf(route).then(({ status, contentType, body, headers }) => response.writeHead(status, { 'content-type': contentType, ...headers }).end(body));
    });
    // What Node's parser refuses or times out, in the documented shape (as the api answers it).
    server.on('clientError', clientError);
    server.on('upgrade', (request, raw: Duplex, head: Buffer) => {
      const query = (request.url ?? '').split('?')[1] ?? '';
      const forwarded = request.headers['x-forwarded-for'];
      const address = handlers.clientAddress(request.socket.remoteAddress ?? '', Array.isArray(forwarded) ? forwarded.join(',') : forwarded);
      const refusal = handlers.admit(address);
      if (refusal) {
        const headers = { 'content-type': refusal.contentType, 'content-length': String(Buffer.byteLength(refusal.body)), connection: 'close', ...refusal.headers };
        raw.end(`HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status]}\r\n${Object.entries(headers).map(([name, value]) => `${name}: ${value}`).join('\r\n')}\r\n\r\n${refusal.body}`);
        return;
      }
      wss.handleUpgrade(request, raw, head, (ws) => new WsClientSocket(ws, raw, sockets).start({ query, address }));
    });
    const idleCheck = setInterval(() => {
      for (const socket of sockets.open) socket.checkIdle();
    }, (options.idleTimeoutSeconds * 1000) / 2);
    idleCheck.unref();

    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => reject(new Error(`cannot listen on ${options.host}:${options.port}: ${error.code ?? error.message}`
        + (error.code === 'EADDRINUSE' && !canSharePort ? ` (processes share a port with the ws transport only on Node ≥ 22.12; this is ${process.version})` : ''))));
      server.listen({ host: options.host, port: options.port, reusePort: canSharePort }, resolve);
    });
    return {
      port: (server.address() as { port: number }).port,
      publish: (topic, frame) => sockets.publish(topic, frame),
      stopListening: () => {
        server.close();
        clearInterval(idleCheck);
      },
    };
  }
}
