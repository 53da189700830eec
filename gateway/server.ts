import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Backends } from '../core/backends.js';
import { BusPublisher, BusSubscriber, busEndpoints } from '../core/bus.js';
import type { Config } from '../core/config.js';
import type { Role } from '../core/daemon.js';
import { PushwireError } from '../core/errors.js';
import { encodeKey, parseSince, type Since } from '../core/ids.js';
import type { Logger } from '../core/log.js';
import { metrics, registry } from '../core/metrics.js';
import { batchedStore } from './batched-store.js';
import { Connection } from './connection.js';
import { Hub } from './hub.js';
import { CloseCode, errorFrame, parseClientFrame, type ClientFrame } from './protocol.js';
import { App, closeListenSocket, localPort, type ListenSocket, type WebSocket } from './uws.js';
import { UwsSocket, type SocketData } from './uws-socket.js';


/**
 * When to check the store after a new bus subscription: it reaches the publishers in ~1 ms on
 * an idle loopback, but a burst of thousands on a busy machine takes longer.
 */
const SETTLE_CHECKS_MS = [250, 1000] as const;
const FILL_BATCH = 500;

export async function startGateway(config: Config, { store, presence }: Backends, log: Logger): Promise<Role & { port: number; id: string }> {
  const id = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const endpoints = busEndpoints(config.brokerHost, config.brokerInPort, config.brokerOutPort);
  const subscriber = new BusSubscriber(endpoints.out, log);
  const publisher = new BusPublisher(endpoints.in, log);
  const delivery = {
    publicUrl: config.publicUrl, softBackpressureBytes: config.softBackpressureBytes, maxPending: config.maxPendingMessages,
    fillBatch: FILL_BATCH, onError: (error: unknown) => log.error({ err: error }, 'delivery failed'),
  };
  const hub = new Hub(subscriber, store, presence, {
    gatewayId: id, settleChecksMs: SETTLE_CHECKS_MS, resyncMs: config.resyncMs, delivery,
    publish: (topic, frame) => app.publish(topic, frame, false),
  }, log);
  void subscriber.run((event) => {
    if (event.topic === 'user') hub.deliver(event.message);
  });
  const sendRaw = (ws: WebSocket<SocketData>, frame: string) => {
    if (!ws.getUserData().closed) ws.send(frame, false);
  };
  const reject = (ws: WebSocket<SocketData>, error: PushwireError, code: number) => {
    const data = ws.getUserData();
    if (data.closed) return;
    if (!data.connection) metrics.authFailures.inc({ reason: error.code });
    sendRaw(ws, errorFrame(error));
    data.closed = true;
    ws.end(code, error.message.slice(0, 120));
  };

  const batched = batchedStore(store);

  async function authenticate(ws: WebSocket<SocketData>, frame: Extract<ClientFrame, { type: 'auth' }>): Promise<void> {
    const data = ws.getUserData();
    data.authenticating = true;
    const user = await batched.userByToken(frame.token);
    if (data.closed) return;
    if (!user) return reject(ws, new PushwireError('invalid_token'), CloseCode.authFailed);
    let since: Since | undefined;
    if (frame.since !== undefined) {
      const parsed = parseSince(frame.since, user.id);
      if (!parsed) return reject(ws, new PushwireError('bad_since'), CloseCode.protocolError);
      since = parsed;
    }
    const limit = frame.limit ?? config.defaultLimit;
    if (limit > config.maxLimit) return reject(ws, new PushwireError('bad_limit', `limit is at most ${config.maxLimit}`), CloseCode.protocolError);
    clearTimeout(data.authTimer);
    data.authTimer = undefined;
    const connection = new Connection(user.id, new UwsSocket(ws, data), batched.history, delivery);
    data.connection = connection;
    // Subscribe first, then read the store: nothing committed in between can be missed.
    hub.attach(connection);
    // Resuming after a key needs no fresh sequence read: catch-up starts at that key, and the
    // settle check covers what commits meanwhile. Without `since` (or after a time) it does.
    const resumesAfterKey = since !== undefined && 'seq' in since;
    const [stored, acked] = await Promise.all([
      resumesAfterKey ? Promise.resolve(undefined) : batched.lastSeq(user.id),
      presence.acked(user.id).catch((error) => {
        log.warn({ err: error }, 'acked position unavailable');
        return 0;
      }),
    ]);
    if (data.closed) return;
    const storedLastSeq = resumesAfterKey ? (since as { seq: number }).seq : stored ?? user.lastSeq;
    // `position`: without `since`, live delivery starts after this key, so a client that loses the
    // socket before its first message resumes from here. `acked`: what the user last acknowledged.
    connection.sendControl({
      type: 'hello', gateway: id,
      position: since === undefined ? encodeKey(user.id, storedLastSeq) : null,
      acked: acked > 0 ? encodeKey(user.id, acked) : null,
    });
    await connection.start(storedLastSeq, since, limit);
  }

  function handle(ws: WebSocket<SocketData>, frame: ClientFrame): void {
    const data = ws.getUserData();
    const connection = data.connection;
    if (!connection) {
      if (frame.type !== 'auth' || data.authenticating) return reject(ws, new PushwireError('bad_request', 'Authenticate first: `token: TOKEN` or {"token": ...}.'), CloseCode.protocolError);
      void authenticate(ws, frame).catch((error) => {
        log.error({ err: error }, 'authentication failed');
        reject(ws, new PushwireError('unavailable'), CloseCode.internal);
      });
      return;
    }
    switch (frame.type) {
      case 'auth':
        throw new PushwireError('bad_request', 'Already authenticated.');
      case 'ping':
        return connection.sendControl({ type: 'pong' });
      case 'ack': {
        const position = parseSince(frame.key, connection.userId);
        if (!position || !('seq' in position) || position.seq > connection.lastSeq) throw new PushwireError('bad_key', 'Ack a key this socket received.');
        return hub.ack(connection.userId, position.seq);
      }
      case 'fetch': {
        if (!connection.paging) throw new PushwireError('bad_request', 'Nothing more to fetch: send fetch only after a catchup frame with more: true.');
        const since = frame.since === undefined ? { seq: connection.lastSeq } : parseSince(frame.since, connection.userId);
        if (!since) throw new PushwireError('bad_since');
        const limit = frame.limit ?? config.defaultLimit;
        if (limit > config.maxLimit) throw new PushwireError('bad_limit', `limit is at most ${config.maxLimit}`);
        void connection.fetch(since, limit);
        return;
      }
    }
  }

  const sockets = new Set<WebSocket<SocketData>>();
  let draining = false;
  const app = App().ws<SocketData>('/*', {
    maxPayloadLength: config.maxFrameBytes,
    idleTimeout: config.idleTimeoutSeconds,
    sendPingsAutomatically: true,
    // A group publish past this would be dropped for that socket: close it instead, so the
    // client resumes and loses nothing. The hub moves slow sockets out of groups long before.
    maxBackpressure: 64 * 1024 * 1024,
    closeOnBackpressureLimit: 1,
    upgrade: (res, req, context) => {
      const token = new URLSearchParams(req.getQuery() ?? '').get('token');
      res.upgrade<SocketData>({ queryToken: token, authenticating: false, closed: false },
        req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
    },
    open: (ws) => {
      sockets.add(ws);
      const data = ws.getUserData();
      data.authTimer = setTimeout(() => reject(ws, new PushwireError('missing_token', 'Authenticate within the time allowed.'), CloseCode.authTimeout), config.authTimeoutMs);
      if (data.queryToken) handle(ws, { type: 'auth', token: data.queryToken });
    },
    message: (ws, message, isBinary) => {
      const data = ws.getUserData();
      try {
        if (isBinary) throw new PushwireError('bad_request', 'Frames are text.');
        handle(ws, parseClientFrame(Buffer.from(message).toString('utf8')));
      } catch (error) {
        const typed = error instanceof PushwireError ? error : new PushwireError('internal');
        if (!(error instanceof PushwireError)) log.error({ err: error }, 'frame handling failed');
        if (!data.connection) reject(ws, typed, CloseCode.protocolError);
        else data.connection.sendControl({ type: 'error', error: typed.code, message: typed.message });
      }
    },
    drain: (ws) => ws.getUserData().connection?.drain(),
    close: (ws) => {
      sockets.delete(ws);
      const data = ws.getUserData();
      data.closed = true;
      clearTimeout(data.authTimer);
      if (data.connection) {
        data.connection.closed = true;
        hub.detach(data.connection);
      }
    },
  }).get('/health', (res) => {
    res.writeHeader('content-type', 'application/json').end(JSON.stringify({ status: 'ok', pid: process.pid, id, connections: hub.connections }));
  }).get('/ready', (res) => {
    const problem = draining ? 'draining' : subscriber.connected ? null : 'bus disconnected';
    res.writeStatus(problem ? '503 Service Unavailable' : '200 OK').writeHeader('content-type', 'application/json')
      .end(JSON.stringify(problem ? { status: 'not ready', reason: problem } : { status: 'ready' }));
  }).get('/metrics', (res) => {
    let aborted = false;
    res.onAborted(() => { aborted = true; });
    void registry.metrics().then((text) => {
      if (!aborted) res.cork(() => res.writeHeader('content-type', registry.contentType).end(text));
    });
  });

  const listenSocket = await new Promise<ListenSocket>((resolve, reject) => {
    app.listen(config.host, config.gatewayPort, (socket) => (socket ? resolve(socket) : reject(new Error(`gateway cannot listen on ${config.host}:${config.gatewayPort}`))));
  });
  const port = localPort(listenSocket as never);
  const address = config.gatewayAddress.replace(/:0$/, `:${port}`);
  const startedAt = Date.now();
  let lastDelivered = 0;
  let lastBeat = Date.now();
  const beat = (leaving = false) => {
    const now = Date.now();
    const rate = ((hub.delivered - lastDelivered) * 1000) / Math.max(1, now - lastBeat);
    lastDelivered = hub.delivered;
    lastBeat = now;
    publisher.publishHeartbeat({ id, address, connections: hub.connections, messagesPerSecond: Math.round(rate), p99LatencyMs: hub.takeP99LatencyMs(), startedAt, leaving });
  };
  beat();
  const heartbeat = setInterval(beat, config.heartbeatMs);
  log.info({ id, address }, 'gateway listening');

  return {
    id,
    port,
    /**
     * Drain: leave /nodes/ at once (farewell heartbeat), stop accepting, ask every client to
     * reconnect elsewhere with a `reconnect` frame, give them up to PUSHWIRE_GATEWAY_DRAIN_MS to
     * go, then close the rest with 1001. Clients resume with `since`, so nothing is lost.
     */
    close: async () => {
      draining = true;
      clearInterval(heartbeat);
      beat(true);
      closeListenSocket(listenSocket);
      for (const ws of sockets) {
        const data = ws.getUserData();
        if (!data.closed) sendRaw(ws, JSON.stringify({ type: 'reconnect', reason: 'draining' }));
      }
      const deadline = Date.now() + config.gatewayDrainMs;
      while (sockets.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
      for (const ws of sockets) {
        const data = ws.getUserData();
        if (!data.closed) {
          data.closed = true;
          ws.end(CloseCode.goingAway, 'gateway shutting down, reconnect');
        }
      }
      await hub.close();
      // Give the farewell heartbeat a moment to leave before the socket closes.
      await new Promise((resolve) => setTimeout(resolve, 50));
      subscriber.close();
      publisher.close();
    },
  };
}
