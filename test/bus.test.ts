import t, { type Test } from 'tap';
import { EVERY_USER_TOPIC, type Bus, type BusEvent, type BusPublisher, type BusSubscriber } from '../core/bus/bus.js';
import { MemoryBus } from '../core/bus/memory.js';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBrokerKeys, readClientKeys, writeBusKeys, z85 } from '../core/bus/curve.js';
import { busEndpoints, ZeroMqBus } from '../core/bus/zeromq.js';
import { zmq } from '../core/bus/zmq.js';
import { startBroker } from '../broker/proxy.js';
import { createLogger } from '../core/log.js';
import { toFrame, type StoredMessage } from '../core/message.js';
import { eventually } from './helpers/client.js';
import { freePorts, portIsFree } from './helpers/ports.js';

const log = createLogger('test', 'silent');
const message = (userId: number, seq: number): StoredMessage => ({ userId, seq, queue: 'q', micros: seq, kind: 'message', replaceId: null, body: { title: `${userId}:${seq}`, text: 'say "hi" \\ ünï 😀', list: [1, null] } });

/** The contract both buses keep, the second over a real broker. */
function busSuite(t: Test, name: string, open: () => Promise<{ bus: Bus; close(): Promise<void> }>): void {
  t.test(name, async (t) => {
    const { bus, close } = await open();
    t.teardown(close);
    const publisher = bus.publisher();
    // A gateway where every user's messages are at hand subscribes to them all at once.
    const everyUser = bus.subscriber();
    const toEveryUser: string[] = [];
    void everyUser.run((event) => toEveryUser.push(event.topic === 'user' ? String(event.message.body.title) : 'heartbeat'));
    everyUser.subscribe(EVERY_USER_TOPIC);
    const gateway = bus.subscriber();
    const received: string[] = [];
    void gateway.run((event: BusEvent) => {
      if (event.topic !== 'user') return;
      received.push(String(event.message.body.title));
      // The frame a gateway writes of what crossed: the same bytes as serialising the message it was published as.
      if (toFrame(event.message, 'http://h') !== toFrame(message(event.message.userId, event.message.seq), 'http://h')) received.push('frame differs');
    });
    gateway.subscribe('u.12.');
    gateway.subscribe('u.7.');
    gateway.subscribe('u.7.');
    gateway.unsubscribe('u.7.');
    // Until the subscriptions have travelled (ZeroMQ): a user-12 message arrives.
    await eventually(async () => {
      publisher.publishMessage(message(12, 0));
      await new Promise((resolve) => setTimeout(resolve, 20));
      return received.includes('12:0') && toEveryUser.includes('12:0');
    }, 10_000);
    received.length = 0;
    toEveryUser.length = 0;
    for (let seq = 1; seq <= 50; seq++) {
      publisher.publishMessage(message(12, seq));
      publisher.publishMessage(message(123, seq));
      publisher.publishMessage(message(7, seq));
    }
    publisher.publishMessage(message(12, 51));
    await eventually(async () => received.includes('12:51'), 10_000);
    const expected = Array.from({ length: 50 }, (_, i) => [`12:${i + 1}`, `7:${i + 1}`]).flat().concat('12:51');
    t.same(received, expected, 'in publish order, only subscribed users (12 never matches 123), a subscription counted twice needs two unsubscriptions');
    await eventually(async () => toEveryUser.includes('12:51'), 10_000);
    const everything = Array.from({ length: 50 }, (_, i) => [`12:${i + 1}`, `123:${i + 1}`, `7:${i + 1}`]).flat().concat('12:51');
    t.same(toEveryUser, everything, 'the subscriber to every user\'s topic gets every user\'s messages, in publish order');

    gateway.unsubscribe('u.7.');
    received.length = 0;
    publisher.publishMessage(message(7, 52));
    publisher.publishMessage(message(12, 52));
    await eventually(async () => received.includes('12:52'), 10_000);
    t.same(received, ['12:52'], 'after the last unsubscription, nothing for user 7');

    const monitor = bus.subscriber();
    const beats: string[] = [];
    void monitor.run((event) => event.topic === 'heartbeat' && beats.push(event.heartbeat.id));
    monitor.subscribe('hb.');
    await eventually(async () => {
      publisher.publishHeartbeat({ id: 'gw', address: 'a:1', connections: 0, messagesPerSecond: 0, startedAt: 0, p99LatencyMs: null, transport: 'uws', node: process.version });
      await new Promise((resolve) => setTimeout(resolve, 20));
      return beats.length > 0;
    }, 10_000);
    t.equal(beats[0], 'gw', 'heartbeats reach heartbeat subscribers');
    publisher.publishMessage(message(12, 53));
    await eventually(async () => toEveryUser.includes('12:53'), 10_000);
    t.notOk(toEveryUser.includes('heartbeat'), 'and no heartbeat: it is no user\'s topic');
    everyUser.close();
    t.ok(gateway.connected);
    monitor.close();
    gateway.close();
    publisher.close();
  });
}

busSuite(t, 'memory bus', async () => ({ bus: new MemoryBus(log), close: async () => {} }));

t.test('a gateway subscribes each user only where that keeps other users\' messages away', async (t) => {
  t.notOk(new MemoryBus(log).subscriber().filtersByUser, 'in one process every message is at hand: one subscription for all');
  const [inPort, outPort] = await freePorts(2);
  const subscriber = new ZeroMqBus(busEndpoints('127.0.0.1', inPort, outPort), () => null, log).subscriber();
  t.ok(subscriber.filtersByUser, 'over ZeroMQ, a topic per user keeps the rest off the wire');
  subscriber.close();
});
busSuite(t, 'ZeroMQ bus through the broker, CURVE', async () => {
  const [inPort, outPort] = await freePorts(2);
  const endpoints = busEndpoints('127.0.0.1', inPort, outPort);
  const keys = keysDir();
  const broker = await startBroker(endpoints, log, readBrokerKeys(keys));
  // The gateway's keys: the one role admitted on both sides (it publishes heartbeats).
  return { bus: new ZeroMqBus(endpoints, () => readClientKeys(keys, 'gateway'), log), close: () => broker.close() };
});
busSuite(t, 'ZeroMQ bus through the broker, plain (loopback only)', async () => {
  const [inPort, outPort] = await freePorts(2);
  const endpoints = busEndpoints('127.0.0.1', inPort, outPort);
  const broker = await startBroker(endpoints, log, null);
  return { bus: new ZeroMqBus(endpoints, () => null, log), close: () => broker.close() };
});

/** A gateway's worth of users for the tests below: far past the 1,000 a ZeroMQ socket queues by default. */
const USERS = 20_000;

/** Records `userId:seq` of every user message the subscriber gets. */
function recording(subscriber: BusSubscriber): Set<string> {
  const received = new Set<string>();
  void subscriber.run((event) => event.topic === 'user' && received.add(`${event.message.userId}:${event.message.seq}`));
  return received;
}

/** Publishes message `user:seq` until it arrives. */
async function reaches(publisher: BusPublisher, received: Set<string>, user: number, seq: number): Promise<void> {
  await eventually(async () => {
    publisher.publishMessage(message(user, seq));
    await new Promise((resolve) => setTimeout(resolve, 20));
    return received.has(`${user}:${seq}`);
  }, 30_000);
}

/** The users of 1…USERS whose message `seq` from `publisher` is dropped: one each, then one to user 0 after them all. */
async function missedBy(publisher: BusPublisher, received: Set<string>, seq: number): Promise<number[]> {
  for (let user = 1; user <= USERS; user++) publisher.publishMessage(message(user, seq));
  // In order after them on the same publisher: once it is here, every one is here or was dropped.
  publisher.publishMessage(message(0, seq));
  await eventually(async () => received.has(`0:${seq}`), 10_000);
  return Array.from({ length: USERS }, (_, i) => i + 1).filter((user) => !received.has(`${user}:${seq}`));
}

t.test('tens of thousands of users subscribing at once, or again when the broker comes back, all reach every publisher', async (t) => {
  const [inPort, outPort] = await freePorts(2);
  const endpoints = busEndpoints('127.0.0.1', inPort, outPort);
  let broker = await startBroker(endpoints, log, null);
  t.teardown(() => broker.close());
  const bus = new ZeroMqBus(endpoints, () => null, log);
  const publisher = bus.publisher();
  const gateway = bus.subscriber();
  const probe = bus.publisher();
  t.teardown(() => {
    gateway.close();
    publisher.close();
    probe.close();
  });
  const received = recording(gateway);
  gateway.subscribe('u.0.');
  await reaches(publisher, received, 0, 0);
  // A gateway restart's worth of users subscribe in one turn; the publisher sends nothing meanwhile.
  for (let user = 1; user <= USERS; user++) gateway.subscribe(`u.${user}.`);
  // Subscribed after them, so once another publisher's message to it gets through, the broker has
  // passed every one of them on to the publishers.
  gateway.subscribe(`u.${USERS + 1}.`);
  await reaches(probe, received, USERS + 1, 0);
  t.same(await missedBy(publisher, received, 1), [], 'no user\'s next message is dropped');

  // The broker restarts: the gateway subscribes every user again at once as it reconnects.
  await broker.close();
  // ZeroMQ lets go of the ports in its own time.
  await eventually(async () => (await Promise.all([inPort, outPort].map(portIsFree))).every(Boolean), 10_000);
  broker = await startBroker(endpoints, log, null);
  await reaches(publisher, received, 0, 2);
  gateway.subscribe(`u.${USERS + 2}.`);
  await reaches(probe, received, USERS + 2, 0);
  t.same(await missedBy(publisher, received, 3), [], 'after the broker came back, no user\'s next message is dropped either');
});

function keysDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pushwire-bus-keys-'));
  writeBusKeys(dir);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The scheduling policy in a /proc stat file (its 41st field). */
function policy(statFile: string): number {
  const stat = readFileSync(statFile, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[38]);
}

t.test('ZeroMQ\'s I/O threads do not preempt the event loop that sends (SCHED_BATCH, Linux)', { skip: process.platform !== 'linux' && 'Linux only' }, async (t) => {
  // The suites above opened sockets, so the context's I/O thread runs.
  const io = readdirSync('/proc/self/task').filter((tid) => readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() === 'ZMQbg/IO/0');
  t.ok(io.length > 0, 'the I/O thread is there');
  t.same(io.map((tid) => policy(`/proc/self/task/${tid}/stat`)), io.map(() => 3), 'it runs under SCHED_BATCH');
  t.equal(policy('/proc/self/stat'), 0, 'the event loop\'s thread keeps SCHED_OTHER');
});

t.test('under CURVE, nobody without its role\'s key reads the bus or puts a message on it', async (t) => {
  const [inPort, outPort] = await freePorts(2);
  const endpoints = busEndpoints('127.0.0.1', inPort, outPort);
  const keys = keysDir();
  const broker = await startBroker(endpoints, log, readBrokerKeys(keys));
  t.teardown(() => broker.close());
  const role = (name: 'api' | 'gateway' | 'monitor') => new ZeroMqBus(endpoints, () => readClientKeys(keys, name), log);
  const strangerKeys = { ...zmq.curveKeyPair(), serverKey: readBrokerKeys(keys).publicKey };
  const stranger = new ZeroMqBus(endpoints, () => strangerKeys, log);
  const plain = new ZeroMqBus(endpoints, () => null, log);

  // Who should be heard: the api publishing, a gateway listening.
  const api = role('api').publisher();
  const gateway = role('gateway').subscriber();
  const received: string[] = [];
  void gateway.run((event) => event.topic === 'user' && received.push(String(event.message.body.title)));
  gateway.subscribe('u.12.');

  // Eavesdroppers, each subscribed to everything: no keys, unknown keys, and the api's keys (admitted to publish only).
  const eavesdroppers = [plain.subscriber(), stranger.subscriber(), role('api').subscriber()];
  const overheard: string[] = [];
  for (const eavesdropper of eavesdroppers) {
    void eavesdropper.run((event) => overheard.push(event.topic === 'user' ? String(event.message.body.title) : event.heartbeat.id));
    eavesdropper.subscribe('');
  }
  // Forgers: no keys, unknown keys, and the monitor's keys (admitted to subscribe only).
  const forgers = [plain.publisher(), stranger.publisher(), role('monitor').publisher()];

  // Forged messages and real ones alternate until 40 real ones arrived (over at least a second),
  // so every forger had the whole time to connect; the real ones arriving is the sentinel.
  let seq = 0;
  await eventually(async () => {
    seq++;
    forgers.forEach((forger, index) => {
      forger.publishMessage(message(12, 1000 + seq * 10 + index));
      forger.publishHeartbeat({ id: `fake-${index}`, address: 'evil:1', connections: 0, messagesPerSecond: 0, startedAt: 0, p99LatencyMs: null, transport: 'uws', node: '' });
    });
    api.publishMessage(message(12, seq));
    await new Promise((resolve) => setTimeout(resolve, 25));
    return received.length >= 40;
  }, 20_000);
  t.ok(received.every((title) => /^12:\d{1,3}$/.test(title)), `the gateway got only the api's messages (${received.length}), no forged one`);
  t.same(overheard, [], 'no eavesdropper received anything');
  t.notOk(eavesdroppers.some((eavesdropper) => eavesdropper.connected), 'no eavesdropper completed a handshake');
  for (const closing of [...eavesdroppers, ...forgers, api, gateway]) closing.close();
});

t.test('z85 encodes as RFC 32 says', async (t) => {
  t.equal(z85(Uint8Array.from([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b])), 'HelloWorld');
  const pair = zmq.curveKeyPair();
  t.match(pair.publicKey, /^.{40}$/, 'ZeroMQ\'s keys are 40 characters of Z85');
});

t.test('the memory bus delivers the stored object itself, and one failing subscriber harms nobody', async (t) => {
  const bus = new MemoryBus(log);
  const seen: StoredMessage[] = [];
  const failing = bus.subscriber();
  void failing.run(() => {
    throw new Error('subscriber bug');
  });
  failing.subscribe('u.1.');
  const healthy = bus.subscriber();
  void healthy.run((event) => event.topic === 'user' && seen.push(event.message));
  healthy.subscribe('u.1.');
  const sent = message(1, 1);
  bus.publisher().publishMessage(sent);
  t.equal(seen[0], sent, 'no copy, delivered before publishMessage returns');
  const closed = healthy.run(() => {});
  healthy.close();
  await closed;
  bus.publisher().publishMessage(message(1, 2));
  t.equal(seen.length, 1, 'a closed subscriber receives nothing and its run() resolves');
});
