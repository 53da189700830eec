import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Backends } from '../core/backends.js';
import type { Config } from '../core/config.js';
import type { Role } from '../core/daemon.js';
import type { Logger } from '../core/log.js';
import { registry } from '../core/metrics.js';
import { batchedStore } from './batched-store.js';
import { Activity } from '../core/activity.js';
import { Admission } from './admission.js';
import { Hub } from './hub.js';
import { CloseCode } from '../sdk/wire.js';
import { Session, type SessionContext } from './session.js';
import { selectTransport } from './transport/select.js';


/**
 * When to check the store after a new bus subscription: it reaches the publishers in ~1 ms on
 * an idle loopback, but a burst of thousands on a busy machine takes longer.
 */
const SETTLE_CHECKS_MS = [250, 1000] as const;
const FILL_BATCH = 500;
/** A message committed just before a store check reaches the gateway over the bus within a millisecond or two. */
const VERIFY_GRACE_MS = 200;

const json = (status: number, body: unknown) => ({ status, contentType: 'application/json', body: JSON.stringify(body) });

export async function startGateway(config: Config, { store, presence, bus, rateLimitRedis }: Backends, log: Logger): Promise<Role & { port: number; id: string; transport: string; fallbackReason: string | null }> {
  const { transport, fallbackReason } = await selectTransport(config.gatewayTransport);
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
  const activity = new Activity(store, Activity.periodFor(config.idleTokenTtlSeconds), log, () => hub.userIds());
  const sessions = new Set<Session>();
  const sessionContext: SessionContext = { gatewayId: id, config, store: batched, presence, hub, admission, activity, log };
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
    open: (socket, upgrade) => {
      admission.opened(upgrade.address);
      const session = new Session(socket, upgrade, sessionContext);
      sessions.add(session);
      session.authenticateFromUrl(upgrade.query);
      return session;
    },
    message: (session, text) => session.receive(text),
    drain: (session) => session.connection?.drain(),
    close: (session) => {
      sessions.delete(session);
      session.closed();
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
      for (const session of [...sessions]) session.drain();
      const deadline = Date.now() + config.gatewayDrainMs;
      while (sessions.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
      for (const { socket } of [...sessions]) socket.close(CloseCode.goingAway, 'gateway shutting down, reconnect');
      await hub.close();
      admission.close();
      await activity.close();
      // Give the farewell heartbeat a moment to leave before the socket closes.
      await new Promise((resolve) => setTimeout(resolve, 50));
      subscriber.close();
      publisher.close();
    },
  };
}
