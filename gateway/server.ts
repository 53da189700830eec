import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Backends } from '../core/backends.js';
import type { Config } from '../core/config.js';
import type { Role } from '../core/daemon.js';
import { PushwireError } from '../core/errors.js';
import { encodeKey, parseSince, type Since } from '../core/ids.js';
import type { Logger } from '../core/log.js';
import { metrics, registry } from '../core/metrics.js';
import { batchedStore } from './batched-store.js';
import { Activity } from '../core/activity.js';
import { Admission } from './admission.js';
import { Connection } from './connection.js';
import { Hub } from './hub.js';
import { CloseCode, type ClientFrame, type ReconnectFrame } from '../sdk/wire.js';
import { errorFrame, parseClientFrame } from './protocol.js';
import { selectTransport } from './transport/select.js';
import type { ClientSocket } from './transport/transport.js';


/**
 * When to check the store after a new bus subscription: it reaches the publishers in ~1 ms on
 * an idle loopback, but a burst of thousands on a busy machine takes longer.
 */
const SETTLE_CHECKS_MS = [250, 1000] as const;
const FILL_BATCH = 500;
/** A message committed just before a store check reaches the gateway over the bus within a millisecond or two. */
const VERIFY_GRACE_MS = 200;

/** The gateway's state for one client socket, whatever transport serves it. */
interface Session {
  readonly socket: ClientSocket;
  /** The client's IP address (per-address limits). */
  address: string;
  authenticating: boolean;
  authTimer?: NodeJS.Timeout;
  connection?: Connection;
}

const json = (status: number, body: unknown) => ({ status, contentType: 'application/json', body: JSON.stringify(body) });

export async function startGateway(config: Config, { store, presence, bus, rateLimitRedis }: Backends, log: Logger): Promise<Role & { port: number; id: string; transport: string; fallbackReason: string | null }> {
  const { transport, fallbackReason } = selectTransport(config.gatewayTransport);
  const id = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const subscriber = bus.subscriber();
  const publisher = bus.publisher();
  const delivery = {
    publicUrl: config.publicUrl, softBackpressureBytes: config.softBackpressureBytes, maxPending: config.maxPendingMessages,
    fillBatch: FILL_BATCH, verifyGraceMs: VERIFY_GRACE_MS, onError: (error: unknown) => log.error({ err: error }, 'delivery failed'),
  };
  const batched = batchedStore(store);
  const hub = new Hub(subscriber, { history: batched.history, lastSeqs: (userIds) => store.lastSeqs(userIds) }, presence, {
    gatewayId: id, settleChecksMs: SETTLE_CHECKS_MS, resyncMs: config.resyncMs, delivery,
    publish: (topic, frame) => server.publish(topic, frame),
  }, log);
  void subscriber.run((event) => {
    if (event.topic === 'user') hub.deliver(event.message);
  });
  const admission = new Admission(config, rateLimitRedis ? { redis: rateLimitRedis, prefix: config.redisPrefix } : null, log);
  // Users connected stay active: recorded at authentication and every period while connected.
  const activity = new Activity(store, Activity.periodFor(config.idleTokenTtlSeconds), log);
  const stillConnected = setInterval(() => {
    for (const session of sessions) if (session.connection) activity.seen(session.connection.userId);
  }, activity.periodMs);
  stillConnected.unref();
  const reject = (session: Session, error: PushwireError, code: number) => {
    const { socket } = session;
    if (socket.closed) return;
    if (!session.connection) metrics.authFailures.inc({ reason: error.code });
    if (error.code === 'invalid_token') admission.authFailed(session.address);
    socket.send(errorFrame(error));
    socket.close(code, error.message.slice(0, 120));
  };

  async function authenticate(session: Session, frame: Extract<ClientFrame, { type: 'auth' }>): Promise<void> {
    const { socket } = session;
    session.authenticating = true;
    const user = await batched.userByToken(frame.token);
    if (socket.closed) return;
    if (!user) return reject(session, new PushwireError('invalid_token'), CloseCode.authFailed);
    let since: Since | undefined;
    if (frame.since !== undefined) {
      const parsed = parseSince(frame.since, user.id);
      if (!parsed) return reject(session, new PushwireError('bad_since'), CloseCode.protocolError);
      since = parsed;
    }
    const limit = frame.limit ?? config.defaultLimit;
    if (limit > config.maxLimit) return reject(session, new PushwireError('bad_limit', `limit is at most ${config.maxLimit}`), CloseCode.protocolError);
    clearTimeout(session.authTimer);
    session.authTimer = undefined;
    const connection = new Connection(user.id, socket, batched.history, delivery);
    session.connection = connection;
    activity.seen(user.id);
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
    if (socket.closed) return;
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

  function handle(session: Session, frame: ClientFrame): void {
    const connection = session.connection;
    if (!connection) {
      if (frame.type !== 'auth' || session.authenticating) return reject(session, new PushwireError('bad_request', 'Authenticate first: `token: TOKEN` or {"token": ...}.'), CloseCode.protocolError);
      void authenticate(session, frame).catch((error) => {
        log.error({ err: error }, 'authentication failed');
        reject(session, new PushwireError('unavailable'), CloseCode.internal);
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

  const sessions = new Set<Session>();
  let draining = false;
  const server = await transport.listen<Session>({
    host: config.host, port: config.gatewayPort, maxFrameBytes: config.maxFrameBytes, idleTimeoutSeconds: config.idleTimeoutSeconds,
    // A group publish past this would be lost for that socket: close it instead, so the client
    // resumes and loses nothing. The hub moves slow sockets out of groups long before.
    maxBufferedBytes: 64 * 1024 * 1024,
    httpHeadersTimeoutMs: config.httpHeadersTimeoutMs, httpRequestTimeoutMs: config.httpRequestTimeoutMs,
  }, {
    clientAddress: (peer, forwardedFor) => admission.clientAddress(peer, forwardedFor),
    admit: (address) => admission.admit(address),
    open: (socket, query, address) => {
      admission.opened(address);
      const session: Session = { socket, address, authenticating: false };
      sessions.add(session);
      session.authTimer = setTimeout(() => reject(session, new PushwireError('missing_token', 'Authenticate within the time allowed.'), CloseCode.authTimeout), config.authTimeoutMs);
      const queryToken = new URLSearchParams(query).get('token');
      if (queryToken) handle(session, { type: 'auth', token: queryToken });
      return session;
    },
    message: (session, text) => {
      try {
        if (text === null) throw new PushwireError('bad_request', 'Frames are text.');
        handle(session, parseClientFrame(text));
      } catch (error) {
        const typed = error instanceof PushwireError ? error : new PushwireError('internal');
        if (!(error instanceof PushwireError)) log.error({ err: error }, 'frame handling failed');
        if (!session.connection) reject(session, typed, CloseCode.protocolError);
        else session.connection.sendControl({ type: 'error', error: typed.code, message: typed.message });
      }
    },
    drain: (session) => session.connection?.drain(),
    close: (session) => {
      sessions.delete(session);
      admission.closed(session.address);
      clearTimeout(session.authTimer);
      if (session.connection) {
        session.connection.closed = true;
        hub.detach(session.connection);
      }
    },
  }, {
    '/health': () => json(200, { status: 'ok', pid: process.pid, id, connections: hub.connections, transport: transport.name, transportDetail: transport.description, node: process.version }),
    '/ready': () => {
      const problem = draining ? 'draining' : subscriber.connected ? null : 'bus disconnected';
      return problem ? json(503, { status: 'not ready', reason: problem }) : json(200, { status: 'ready' });
    },
    '/metrics': async () => ({ status: 200, contentType: registry.contentType, body: await registry.metrics() }),
  }).catch((error: Error) => {
    throw new Error(`gateway ${error.message}`);
  });
  const port = server.port;
  const address = config.gatewayAddress.replace(/:0$/, `:${port}`);
  const startedAt = Date.now();
  let lastDelivered = 0;
  let lastBeat = Date.now();
  const beat = (leaving = false) => {
    const now = Date.now();
    const rate = ((hub.delivered - lastDelivered) * 1000) / Math.max(1, now - lastBeat);
    lastDelivered = hub.delivered;
    lastBeat = now;
    publisher.publishHeartbeat({
      id, address, connections: hub.connections, messagesPerSecond: Math.round(rate), p99LatencyMs: hub.takeP99LatencyMs(), startedAt,
      transport: transport.name, node: process.version, leaving,
    });
  };
  beat();
  const heartbeat = setInterval(beat, config.heartbeatMs);
  if (fallbackReason) log.warn({ reason: fallbackReason }, 'websockets served by ws on node:http, not native uWebSockets.js');
  log.info({ id, address, transport: transport.name, transportDetail: transport.description }, 'gateway listening');

  return {
    id,
    port,
    transport: transport.description,
    fallbackReason,
    /**
     * Drain: leave /nodes/ at once (farewell heartbeat), stop accepting, ask every client to
     * reconnect elsewhere with a `reconnect` frame, give them up to PUSHWIRE_GATEWAY_DRAIN_MS to
     * go, then close the rest with 1001. Clients resume with `since`, so nothing is lost.
     */
    close: async () => {
      draining = true;
      clearInterval(heartbeat);
      beat(true);
      server.stopListening();
      for (const { socket } of sessions) socket.send(JSON.stringify({ type: 'reconnect', reason: 'draining' } satisfies ReconnectFrame));
      const deadline = Date.now() + config.gatewayDrainMs;
      while (sessions.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
      for (const { socket } of [...sessions]) socket.close(CloseCode.goingAway, 'gateway shutting down, reconnect');
      await hub.close();
      clearInterval(stillConnected);
      admission.close();
      await activity.close();
      // Give the farewell heartbeat a moment to leave before the socket closes.
      await new Promise((resolve) => setTimeout(resolve, 50));
      subscriber.close();
      publisher.close();
    },
  };
}
