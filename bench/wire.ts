/**
 * The load generator's HTTP/1.1 and websocket clients, written against net.Socket. The generator
 * shares one core with 1,000 or 10,000 clients and 32 publishers: with node:http and `ws` it
 * spent 65–125 µs of its core per message, more than bare uWS's server does, so deliveries/s
 * measured the generator. These clients do only what the benchmark needs (kept-alive POSTs
 * answered with a content-length; unfragmented or fragmented text frames, no extensions) and
 * fail loudly on anything else rather than guess.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';

const HEAD_END = Buffer.from('\r\n\r\n');

interface Pending {
  resolve(answer: { status: number; body: string }): void;
  reject(error: Error): void;
}

/** One kept-alive HTTP/1.1 connection; requests on it are answered in order (pipelining allowed). */
class HttpConnection {
  private readonly socket: net.Socket;
  private readonly waiting: Pending[] = [];
  private buffered: Buffer = Buffer.alloc(0);
  private failure: Error | undefined;

  constructor(private readonly host: string, port: number) {
    this.socket = net.connect({ host, port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.read(chunk));
    const fail = (error: Error) => {
      this.failure = error;
      for (const pending of this.waiting.splice(0)) pending.reject(error);
    };
    this.socket.on('error', fail);
    this.socket.on('close', () => fail(new Error(`${host}:${port}: connection closed`)));
  }

  get idle(): boolean {
    return this.waiting.length === 0 && !this.failure;
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  request(path: string, body: string): Promise<{ status: number; body: string }> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.socket.write(`POST ${path} HTTP/1.1\r\nHost: ${this.host}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    });
  }

  private read(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    for (;;) {
      const headEnd = this.buffered.indexOf(HEAD_END);
      if (headEnd < 0) return;
      const head = this.buffered.toString('latin1', 0, headEnd);
      const length = /\r\ncontent-length: *(\d+)/i.exec(head);
      if (!length) return void this.socket.destroy(new Error(`an answer without content-length: ${head}`));
      const end = headEnd + 4 + Number(length[1]);
      if (this.buffered.length < end) return;
      const status = Number(head.slice(9, 12));
      const body = this.buffered.toString('utf8', headEnd + 4, end);
      this.buffered = this.buffered.subarray(end);
      this.waiting.shift()!.resolve({ status, body });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** POSTs over kept-alive connections, one per request in flight (a new one when all are busy). */
export class HttpPoster {
  private readonly connections = new Map<string, HttpConnection[]>();

  async post(url: string, body: string): Promise<string> {
    const { host, hostname, port, pathname, search } = new URL(url);
    const pool = (this.connections.get(host) ?? []).filter((connection) => !connection.failed);
    this.connections.set(host, pool);
    let connection = pool.find((candidate) => candidate.idle);
    if (!connection) pool.push((connection = new HttpConnection(hostname, Number(port))));
    const answer = await connection.request(pathname + search, body);
    if (answer.status !== 200) throw new Error(`POST ${url}: ${answer.status} ${answer.body}`);
    return answer.body;
  }

  close(): void {
    for (const pool of this.connections.values()) for (const connection of pool) connection.close();
    this.connections.clear();
  }
}

const OPCODE = { continuation: 0, text: 1, close: 8, ping: 9, pong: 10 } as const;

/** A client frame (clients mask theirs, RFC 6455 §5.3). */
function maskedFrame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const header = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.alloc(header + 4 + length);
  frame[0] = 0x80 | opcode;
  if (length < 126) frame[1] = 0x80 | length;
  else if (length < 65_536) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  const mask = randomBytes(4);
  mask.copy(frame, header);
  for (let i = 0; i < length; i++) frame[header + 4 + i] = payload[i] ^ mask[i & 3];
  return frame;
}

export interface WireSocket {
  send(text: string): void;
  close(): void;
}

/**
 * A websocket client: `onText` gets each text message, `onOpen` the socket once upgraded,
 * `onEnd` the reason it ended (a close frame, a reset, a refused upgrade).
 */
export function openWire(url: string, handlers: { onOpen(socket: WireSocket): void; onText(text: string): void; onEnd(reason: string): void }): WireSocket {
  const { hostname, port, pathname, search } = new URL(url);
  const socket = net.connect({ host: hostname, port: Number(port), noDelay: true });
  const wire: WireSocket = {
    send: (text) => void socket.write(maskedFrame(OPCODE.text, Buffer.from(text))),
    close: () => void socket.destroy(),
  };
  let upgraded = false;
  let ended = false;
  let buffered: Buffer = Buffer.alloc(0);
  let fragments: Buffer[] = [];
  const end = (reason: string) => {
    if (ended) return;
    ended = true;
    socket.destroy();
    handlers.onEnd(reason);
  };
  socket.on('connect', () => socket.write(`GET ${pathname}${search} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`
    + `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`));
  socket.on('data', (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    if (!upgraded) {
      const headEnd = buffered.indexOf(HEAD_END);
      if (headEnd < 0) return;
      const status = buffered.toString('latin1', 9, 12);
      if (status !== '101') return end(`upgrade refused: ${buffered.toString('latin1', 0, headEnd)}`);
      upgraded = true;
      buffered = buffered.subarray(headEnd + 4);
      handlers.onOpen(wire);
    }
    while (buffered.length >= 2) {
      const fin = (buffered[0] & 0x80) !== 0;
      const opcode = buffered[0] & 0x0f;
      if (buffered[1] & 0x80) return end('the server masked a frame');
      let length = buffered[1] & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffered.length < 4) return;
        length = buffered.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buffered.length < 10) return;
        length = Number(buffered.readBigUInt64BE(2));
        offset = 10;
      }
      if (buffered.length < offset + length) return;
      const payload = buffered.subarray(offset, offset + length);
      buffered = buffered.subarray(offset + length);
      if (opcode === OPCODE.ping) socket.write(maskedFrame(OPCODE.pong, payload));
      else if (opcode === OPCODE.close) return end(`closed with ${payload.length >= 2 ? payload.readUInt16BE(0) : 1005}`);
      else if (opcode === OPCODE.text || opcode === OPCODE.continuation) {
        if (!fin) fragments.push(Buffer.from(payload));
        else if (fragments.length > 0) {
          handlers.onText(Buffer.concat([...fragments, payload]).toString());
          fragments = [];
        } else handlers.onText(payload.toString());
      } else if (opcode !== OPCODE.pong) return end(`unexpected opcode ${opcode}`);
    }
  });
  socket.on('error', (error) => end(error.message));
  socket.on('close', () => end('connection closed'));
  return wire;
}
