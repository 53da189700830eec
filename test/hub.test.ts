import t from 'tap';
import { MemoryBus } from '../core/bus/memory.js';
import { createLogger } from '../core/log.js';
import type { StoredMessage } from '../core/message.js';
import { MemoryPresence } from '../core/presence/memory.js';
import { Connection } from '../gateway/connection.js';
import { Hub } from '../gateway/hub.js';
import { eventually } from './helpers/client.js';
import { FakeHistory, FakeSocket, FakeTopics } from './helpers/fake-delivery.js';

/**
 * The hub as a gateway drives it: sockets attached and detached as they authenticate and close,
 * messages brought by an in-process bus, presence in memory, uWS topics and the store faked.
 */
function setup(resyncMs = 3_600_000) {
  const log = createLogger('test', 'silent');
  const bus = new MemoryBus(log);
  const history = new FakeHistory();
  const presence = new MemoryPresence();
  const sockets: FakeSocket[] = [];
  const topics = new FakeTopics(sockets);
  const options = { publicUrl: 'http://x', softBackpressureBytes: 1000, maxPending: 50, fillBatch: 10, verifyGraceMs: 0, onError: () => {} };
  /** The users each store check read, in order. */
  const checks: number[][] = [];
  const lastSeqs = async (userIds: readonly number[]) => {
    checks.push([...userIds]);
    return new Map(userIds.map((id) => [id, history.rows.filter((row) => row.userId === id).length]));
  };
  const subscriber = bus.subscriber();
  const hub = new Hub(subscriber, { history, lastSeqs }, presence, {
    gatewayId: 'gw', delivery: options, settleChecksMs: [], resyncMs,
    publish: (topic, frame) => topics.publish(topic, frame),
  }, log);
  void subscriber.run((event) => event.topic === 'user' && hub.deliver(event.message));
  const publisher = bus.publisher();
  /** A socket of `userId`, live from what is stored. */
  const connect = async (userId: number) => {
    const socket = new FakeSocket();
    sockets.push(socket);
    const connection = new Connection(userId, socket, hub.deliveries.pushwire);
    hub.attach(connection);
    await connection.start(history.rows.filter((row) => row.userId === userId).length, undefined, 0);
    return { socket, connection };
  };
  /** The socket closed, as the session ends it: uWS drops a closed socket's topics. */
  const disconnect = ({ socket, connection }: { socket: FakeSocket; connection: Connection }) => {
    connection.stop();
    socket.topics.clear();
    hub.detach(connection);
  };
  /** User 1's next message, stored and published. */
  const publish = (seq: number) => publisher.publishMessage(history.add(seq));
  /** A message of user 2 (stored by nobody: a sentinel on the bus only). */
  const publishToOther = (seq: number) => {
    const message: StoredMessage = { userId: 2, seq, queue: 'q', micros: seq, kind: 'message', replaceId: null, body: { title: `other${seq}` } };
    publisher.publishMessage(message);
  };
  return { hub, presence, topics, history, checks, connect, disconnect, publish, publishToOther };
}

t.test('a user\'s sockets come and go: each message reaches those connected, and presence follows', async (t) => {
  const { hub, presence, topics, connect, disconnect, publish, publishToOther } = setup();
  t.teardown(() => hub.close());
  const first = await connect(1);
  t.same([...(await presence.online([1]))], [1], 'online with one socket');
  publish(1);
  t.same(first.socket.titles(), ['m1'], 'the lone socket gets it');
  const second = await connect(1);
  publish(2);
  publish(3);
  t.same(first.socket.titles(), ['m1', 'm2', 'm3']);
  t.same(second.socket.titles(), ['m2', 'm3'], 'a second socket gets what comes after it connected');
  t.same(topics.titles('u1'), ['m3'], 'in step, the two share their group\'s topic');
  t.equal(hub.connections, 2);

  disconnect(first);
  publish(4);
  t.same(second.socket.titles(), ['m2', 'm3', 'm4'], 'the one left goes on');
  t.same(first.socket.titles(), ['m1', 'm2', 'm3'], 'the one gone gets nothing more');
  t.same([...(await presence.online([1]))], [1], 'still online');

  disconnect(second);
  t.equal(hub.connections, 0);
  t.same([...(await presence.online([1]))], [], 'offline with no socket');
  hub.detach(second.connection);
  t.equal(hub.connections, 0, 'a socket detached twice counts once');

  const third = await connect(1);
  const other = await connect(2);
  publish(5);
  publishToOther(1);
  t.same(other.socket.titles(), ['other1'], 'another user gets their own message');
  t.same(third.socket.titles(), ['m5'], 'back to one socket: it gets what comes next, alone');
  t.same(second.socket.titles(), ['m2', 'm3', 'm4'], 'and the sockets gone nothing more');
});

t.test('the backstop check reads a tenth of the users at a time, and reaches every user within resyncMs', async (t) => {
  // A check every 50 ms; no settle checks, so every read is the backstop's.
  const { hub, history, checks, connect } = setup(500);
  t.teardown(() => hub.close());
  const first = await connect(1);
  for (let userId = 2; userId <= 100; userId++) await connect(userId);
  // Stored and never on the bus: only a store check finds it.
  history.add(1);
  await eventually(async () => first.socket.titles().includes('m1'), 10_000);
  t.same(first.socket.titles(), ['m1'], 'the backstop repaired the socket from the store');
  const from = checks.length;
  await eventually(async () => checks.length >= from + 10, 10_000);
  const round = checks.slice(from, from + 10);
  t.ok(round.every((userIds) => userIds.length === 10), `each read holds one slice of ten users (${round.map((userIds) => userIds.length).join(', ')})`);
  t.same(round.flat().sort((a, b) => a - b), Array.from({ length: 100 }, (_, index) => index + 1), 'ten reads in a row read every user once');
});
