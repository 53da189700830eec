import { Packr } from 'msgpackr';
import { zmq } from './zmq.js';
import type { Logger } from '../log.js';
import { clientOptions, type CurveBroker, type CurveClient } from './curve.js';
import type { StoredMessage } from '../message.js';
import { decodeUserFrame, encodeUserFrame } from './user-frame.js';
import { HEARTBEAT_TOPIC, type Bus, type BusEvent, type BusPublisher, type BusSubscriber, type Heartbeat } from './bus.js';

/**
 * The bus between processes: ZeroMQ PUB/SUB through the broker's XSUB/XPUB proxy. It drops on
 * reconnect, past the high-water mark and for late joiners; everything sent here is already in
 * the store, and gateways repair any gap from it (see gateway/connection.ts).
 *
 * A user's message is one frame that begins with its topic (user-frame.ts); a heartbeat is
 * [topic, msgpack payload]. Subscriptions match a message's first frame by prefix, so every
 * topic ends with '.' so that user 12 never matches user 123.
 */
const packr = new Packr({ useRecords: false });
const HIGH_WATER_MARK = 100_000;

/** A user's message is one frame (user-frame.ts); anything else, [topic, msgpack payload]. */
function decodeBusFrame(frames: Buffer[]): BusEvent | null {
  if (frames.length === 1) return { topic: 'user', message: decodeUserFrame(frames[0]) };
  if (frames[0].toString() === HEARTBEAT_TOPIC) return { topic: 'heartbeat', heartbeat: packr.unpack(frames[1]) as Heartbeat };
  return null;
}

export interface BusEndpoints {
  /** Where publishers connect (the broker's XSUB side). */
  in: string;
  /** Where subscribers connect (the broker's XPUB side). */
  out: string;
}

export function busEndpoints(host: string, inPort: number, outPort: number): BusEndpoints {
  return { in: `tcp://${host}:${inPort}`, out: `tcp://${host}:${outPort}` };
}

/** The broker refusing this role's keys (or its lack of them) is an operator's error: said once, not at every retry. */
function warnOnRefusal(socket: zmq.Socket, endpoint: string, log: Logger): void {
  let said = false;
  socket.events.on('handshake:error:auth', ({ error }) => {
    if (said) return;
    said = true;
    log.error({ endpoint, reason: error.message }, 'the broker refuses this process on the bus: check PUSHWIRE_BUS_SECURITY and the bus keys (README, Security)');
  });
  socket.events.on('handshake', () => void (said = false));
}

/** libzmq's ZMQ_SNDHWM and ZMQ_RCVHWM: zeromq.js offers each only on the sockets that send or receive messages. */
const ZMQ_SNDHWM = 23;
const ZMQ_RCVHWM = 24;
/** A high-water mark of 0: no limit. */
export const UNLIMITED = 0;
/** How often an idle publisher reads the subscriptions that came in meanwhile. */
const SUBSCRIPTIONS_READ_MS = 1000;

/*
 * Subscriptions travel the other way, gateway → broker → every publisher, and no socket on that
 * way may drop one: a subscription lost is a user whose messages the bus drops until they
 * reconnect (the gateway's store checks then bring each one seconds late). A socket drops a
 * subscription it cannot queue past its high-water mark (1,000 by default), which a gateway
 * reaches when thousands of users subscribe in one turn of its event loop (a reconnect storm, a
 * restart, the broker coming back). Measured: of 5,000 topics subscribed at once, 4,001 never
 * reached the broker; with the subscriber's limit lifted, 3,500 of 20,000 were still lost in
 * the broker's forwarding to publishers (broker/proxy.ts); with every limit on the way lifted,
 * none of 100,000 (BENCHMARKS.md, twenty-fifth pass; test/bus.test.ts holds 20,000). Each
 * queue holds only subscriptions, and whoever reads it does so at once: the I/O threads, the
 * broker, and a publisher at its next send or within SUBSCRIPTIONS_READ_MS.
 */

/** A SUB socket whose subscriptions all reach the broker, however many are made at once. */
class SubscribingSubscriber extends zmq.Subscriber {
  constructor(options: ConstructorParameters<typeof zmq.Subscriber>[0]) {
    super(options);
    // Before connecting: a pipe takes its high-water mark when it is made.
    this.setInt32Option(ZMQ_SNDHWM, UNLIMITED);
  }
}

/**
 * A PUB socket that takes in every subscription sent to it. libzmq reads a PUB socket's
 * subscriptions when the process calls into the socket (a send), and queues at most 1,000 unread:
 * when 1,000 users connected and 1,000 left while circus.ini's api published nothing, its first
 * publishes afterwards were dropped for 1–25 of the new users a time, who got them 200–400 ms
 * late through the gateway's repairs; with no limit here, none were in 6 such runs (5 in 6
 * without it, the subscriber and the broker mended).
 */
class SubscribedPublisher extends zmq.Publisher {
  constructor(options: ConstructorParameters<typeof zmq.Publisher>[0]) {
    super(options);
    this.setInt32Option(ZMQ_RCVHWM, UNLIMITED);
  }
}

/**
 * Publishes without ever blocking the caller. sendTimeout 0: a PUB socket never blocks (past the
 * high-water mark it drops), so each send completes at once, in order, with none in flight, and
 * zeromq.js does not ask libzmq before each send whether it may (ZMQ_EVENTS: a poll and a getpid
 * system call a message on the event loop; 3 µs). Asking once a second instead reads the
 * subscriptions that came in meanwhile, so a publisher that sends nothing for hours does not
 * hold every subscription users made and left meanwhile.
 */
export class ZeroMqPublisher implements BusPublisher {
  private readonly socket: zmq.Publisher;
  private readonly readSubscriptions: NodeJS.Timeout;

  constructor(endpoint: string, keys: CurveClient | null, private readonly log: Logger) {
    this.socket = new SubscribedPublisher({ sendHighWaterMark: HIGH_WATER_MARK, sendTimeout: 0, linger: 0, ...(keys && clientOptions(keys)) });
    warnOnRefusal(this.socket, endpoint, log);
    this.socket.connect(endpoint);
    // Reading `writable` asks libzmq (ZMQ_EVENTS), which first processes what came in; on a
    // closed socket it would throw.
    this.readSubscriptions = setInterval(() => void (this.socket.closed || this.socket.writable), SUBSCRIPTIONS_READ_MS).unref();
  }

  publishMessage(message: StoredMessage): void {
    this.send(encodeUserFrame(message));
  }

  publishHeartbeat(heartbeat: Heartbeat): void {
    this.send([HEARTBEAT_TOPIC, packr.pack(heartbeat)]);
  }

  private send(frame: Buffer | [string, Buffer]): void {
    if (this.socket.closed) return;
    this.socket.send(frame).catch((error: unknown) => this.log.warn({ err: error }, 'bus publish failed; the store still has the message'));
  }

  close(): void {
    clearInterval(this.readSubscriptions);
    this.socket.close();
  }
}

export class ZeroMqSubscriber implements BusSubscriber {
  private readonly socket: zmq.Subscriber;
  private connectedOnce = false;
  private lost = false;

  constructor(endpoint: string, keys: CurveClient | null, private readonly log: Logger) {
    this.socket = new SubscribingSubscriber({ receiveHighWaterMark: HIGH_WATER_MARK, linger: 0, ...(keys && clientOptions(keys)) });
    this.socket.events.on('disconnect', () => {
      this.lost = true;
      this.onDisconnect();
    });
    // Connected once the handshake succeeded: under CURVE a TCP connection the broker refuses is not one.
    this.socket.events.on('handshake', () => {
      if (this.connectedOnce && this.lost) this.onReconnect();
      this.connectedOnce = true;
      this.lost = false;
    });
    warnOnRefusal(this.socket, endpoint, log);
    this.socket.connect(endpoint);
  }

  onReconnect: () => void = () => {};
  onDisconnect: () => void = () => {};
  readonly filtersByUser = true;

  get connected(): boolean {
    return this.connectedOnce && !this.lost;
  }

  subscribe(topic: string): void {
    this.socket.subscribe(topic);
  }

  unsubscribe(topic: string): void {
    this.socket.unsubscribe(topic);
  }

  /** Delivers each event to `handle` until the subscriber is closed. */
  async run(handle: (event: BusEvent) => void): Promise<void> {
    try {
      for await (const frames of this.socket) {
        let event: BusEvent | null = null;
        try {
          event = decodeBusFrame(frames);
        } catch (error) {
          this.log.warn({ err: error }, 'undecodable bus frame dropped');
        }
        if (event) handle(event);
      }
    } catch (error) {
      if (!this.socket.closed) throw error;
    }
  }

  close(): void {
    this.socket.close();
  }
}

/**
 * `readKeys` gives this role's CURVE keys (null: plain TCP), read when a publisher or subscriber
 * is first made, so a role that never uses the bus (the pusher) needs none. `brokerKeys`: the
 * keys of a broker this process runs itself (`PUSHWIRE_BUS=zeromq npm start`).
 */
export class ZeroMqBus implements Bus {
  readonly kind = 'zeromq';
  private keys: CurveClient | null | undefined;

  constructor(
    readonly endpoints: BusEndpoints,
    private readonly readKeys: () => CurveClient | null,
    private readonly log: Logger,
    readonly brokerKeys: CurveBroker | null = null,
  ) {}

  private get clientKeys(): CurveClient | null {
    if (this.keys === undefined) this.keys = this.readKeys();
    return this.keys;
  }

  publisher(): BusPublisher {
    return new ZeroMqPublisher(this.endpoints.in, this.clientKeys, this.log);
  }

  subscriber(): BusSubscriber {
    return new ZeroMqSubscriber(this.endpoints.out, this.clientKeys, this.log);
  }
}
