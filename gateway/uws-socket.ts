import type { Socket } from './connection.js';
import type { WebSocket } from './uws.js';

/** What the gateway keeps per uWS socket. */
export interface SocketData {
  queryToken: string | null;
  authenticating: boolean;
  closed: boolean;
  authTimer?: NodeJS.Timeout;
  connection?: import('./connection.js').Connection;
}

/**
 * A uWS websocket as a Connection's Socket. A class rather than closures: one of these per
 * connection, its methods shared, since idle connections are most of a gateway's memory.
 * uWS throws on any use of a closed socket, so every method checks first.
 */
export class UwsSocket implements Socket {
  constructor(private readonly ws: WebSocket<SocketData>, private readonly data: SocketData) {}

  send(frame: string): void {
    if (!this.data.closed) this.ws.send(frame, false);
  }

  batch(sends: () => void): void {
    if (this.data.closed) sends();
    else this.ws.cork(sends);
  }

  bufferedAmount(): number {
    return this.data.closed ? 0 : this.ws.getBufferedAmount();
  }

  close(code: number, reason: string): void {
    if (this.data.closed) return;
    this.data.closed = true;
    this.ws.end(code, reason);
  }
}
