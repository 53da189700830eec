import t, { type Test } from 'tap';
import type { Bus, BusEvent } from '../core/bus/bus.js';
import { MemoryBus } from '../core/bus/memory.js';
import { busEndpoints, ZeroMqBus } from '../core/bus/zeromq.js';
import { startBroker } from '../broker/proxy.js';
import { createLogger } from '../core/log.js';
import type { StoredMessage } from '../core/message.js';
import { eventually } from './helpers/client.js';
import { freePorts } from './helpers/ports.js';

const log = createLogger('test', 'silent');
const message = (userId: number, seq: number): StoredMessage => ({ userId, seq, queue: 'q', micros: seq, kind: 'message', replaceId: null, body: { title: `${userId}:${seq}` } });

/** The contract both buses keep, the second over a real broker. */
function busSuite(t: Test, name: string, open: () => Promise<{ bus: Bus; close(): Promise<void> }>): void {
  t.test(name, async (t) => {
    const { bus, close } = await open();
    t.teardown(close);
    const publisher = bus.publisher();
    const gateway = bus.subscriber();
    const received: string[] = [];
    void gateway.run((event: BusEvent) => {
      if (event.topic === 'user') received.push(String(event.message.body.title));
    });
    gateway.subscribe('u.12.');
    gateway.subscribe('u.7.');
    gateway.subscribe('u.7.');
    gateway.unsubscribe('u.7.');
    // Until the subscriptions have travelled (ZeroMQ): a user-12 message arrives.
    await eventually(async () => {
      publisher.publishMessage(message(12, 0));
      await new Promise((resolve) => setTimeout(resolve, 20));
      return received.includes('12:0');
    }, 10_000);
    received.length = 0;
    for (let seq = 1; seq <= 50; seq++) {
      publisher.publishMessage(message(12, seq));
      publisher.publishMessage(message(123, seq));
      publisher.publishMessage(message(7, seq));
    }
    publisher.publishMessage(message(12, 51));
    await eventually(async () => received.includes('12:51'), 10_000);
    const expected = Array.from({ length: 50 }, (_, i) => [`12:${i + 1}`, `7:${i + 1}`]).flat().concat('12:51');
    t.same(received, expected, 'in publish order, only subscribed users (12 never matches 123), a subscription counted twice needs two unsubscriptions');

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
    t.ok(gateway.connected);
    monitor.close();
    gateway.close();
    publisher.close();
  });
}

busSuite(t, 'memory bus', async () => ({ bus: new MemoryBus(log), close: async () => {} }));
busSuite(t, 'ZeroMQ bus through the broker', async () => {
  const [inPort, outPort] = await freePorts(2);
  const endpoints = busEndpoints('127.0.0.1', inPort, outPort);
  const broker = await startBroker(endpoints, log);
  return { bus: new ZeroMqBus(endpoints, log), close: () => broker.close() };
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
