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
  readonly receivers = 1;

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

  subscribe(topic: string): void {
    if (!this.data.closed) this.ws.subscribe(topic);
  }

  /**
   * uWS queues publishes per subscriber until the end of the event-loop turn, and unsubscribing
   * discards what is still queued. Any send flushes that queue first; a ping is the one send a
   * client never sees (it answers with a pong on its own).
   */
  unsubscribe(topic: string): void {
    if (this.data.closed) return;
    this.ws.ping();
    this.ws.unsubscribe(topic);
  }

  close(code: number, reason: string): void {
    if (this.data.closed) return;
    this.data.closed = true;
    this.ws.end(code, reason);
  }
}
