import t from 'tap';
import { Connection } from '../gateway/connection.js';
import { deliveryContexts } from '../gateway/delivery.js';
import { UserSockets } from '../gateway/user-sockets.js';
import type { Dialect } from '../sdk/wire.js';
import { FakeHistory, FakeSocket, FakeTopics, settle } from './helpers/fake-delivery.js';
import { ManualClock } from './helpers/manual-clock.js';

/**
 * Group delivery, driven as the hub drives it: one user's sockets on a gateway, bus messages
 * handed in one by one, uWS topics and the store faked in memory, time moved by hand.
 */
function setup(verifyGraceMs = 0) {
  const history = new FakeHistory();
  const clock = new ManualClock();
  const sockets: FakeSocket[] = [];
  const topics = new FakeTopics(sockets);
  const options = { publicUrl: 'http://x', softBackpressureBytes: 1000, maxPending: 50, fillBatch: 2, verifyGraceMs, onError: () => {} };
  const groupsThatPublished = new Set<string>();
  const deliveries = deliveryContexts(history, options, clock);
  const user = new UserSockets(1, {
    deliveries,
    publish: (group, frame) => {
      groupsThatPublished.add(group.topic);
      topics.publish(group.topic, frame);
    },
  });
  /** A socket of user 1, live from `storedLastSeq` (or catching up after `since`). */
  const connect = async (storedLastSeq: number, dialect: Dialect = 'pushwire', since?: number) => {
    const socket = new FakeSocket();
    sockets.push(socket);
    const connection = new Connection(1, socket, deliveries[dialect]);
    user.add(connection);
    const started = connection.start(storedLastSeq, since === undefined ? undefined : { seq: since }, 10);
    return { socket, connection, started };
  };
  /** A message committed and brought by the bus. */
  const publish = (seq: number, replaceId: string | null = null) => user.deliver(history.add(seq, replaceId));
  return { history, clock, topics, user, connect, publish, groupsThatPublished };
}

t.test('in-step sockets join their group: each message is written once, to the topic, and every socket gets it once', async (t) => {
  const { history, topics, user, connect, publish } = setup();
  const members = [await connect(0), await connect(0), await connect(0)];
  publish(1);
  t.same(topics.titles('u1'), [], 'the first message goes out by each socket\'s own delivery…');
  t.same(members.map(({ socket }) => [...socket.topics]), [['u1'], ['u1'], ['u1']], '…after which all three are in step and joined');
  publish(2);
  publish(3);
  t.same(topics.titles('u1'), ['m2', 'm3'], 'one publish per message for the whole group');
  for (const { socket, connection } of members) {
    t.same(socket.titles(), ['m1', 'm2', 'm3']);
    t.equal(connection.lastSeq, 3, 'a member\'s position is its group\'s');
  }
  t.equal(user.size, 3);
  t.equal(history.reads, 0, 'no store read without a gap');
});

t.test('a group is made for two sockets of a dialect in step: a lone socket, idle or sent to, costs none', async (t) => {
  const { topics, user, connect, publish } = setup();
  const first = await connect(0);
  t.equal(user.groupOf('pushwire'), undefined, 'connected, nothing sent: no group');
  t.equal(user.size, 1, 'the socket counts, on its own');
  publish(1);
  publish(2);
  t.equal(user.groupOf('pushwire'), undefined, 'sent to, alone: still no group…');
  t.same(first.socket.titles(), ['m1', 'm2'], '…its own delivery writes to it');
  t.same([...first.socket.topics], [], 'and it joined no topic');
  const second = await connect(2);
  publish(3);
  t.ok(user.groupOf('pushwire')?.members.size === 2, 'with a second socket in step, both join their group');
  t.equal(user.groupOf('original'), undefined, 'no socket of the original dialect: no group for it');
  publish(4);
  t.same(topics.titles('u1'), ['m4'], 'written once to the group\'s topic');
  t.same(first.socket.titles(), ['m1', 'm2', 'm3', 'm4']);
  t.same(second.socket.titles(), ['m3', 'm4']);
});

t.test('a group waits out the grace for a gap, then repairs it once for all its members', async (t) => {
  const { history, clock, topics, connect, publish } = setup(20);
  const members = [await connect(0), await connect(0)];
  publish(1);
  history.add(2); // committed, but the bus dropped it
  publish(3);
  clock.advance(19);
  t.equal(history.reads, 0, 'no store read within the grace');
  t.same(topics.titles('u1'), []);
  clock.advance(1);
  await settle();
  t.equal(history.reads, 1, 'one read for the group, not one per socket');
  t.same(topics.titles('u1'), ['m2', 'm3'], 'the repaired message, then the one held behind it');
  for (const { socket } of members) t.same(socket.titles(), ['m1', 'm2', 'm3']);
});

t.test('a member whose buffer grows leaves the group, gets what it missed through its own collapsing queue, and rejoins once drained', async (t) => {
  const { topics, user, connect, publish, groupsThatPublished } = setup();
  const fast = await connect(0);
  const slow = await connect(0);
  publish(1);
  slow.socket.buffered = 5000;
  publish(2, 'score');
  t.ok(groupsThatPublished.has('u1'), 'the group published: the hub checks its members');
  user.groupOf('pushwire')!.shedBehind();
  t.same([...slow.socket.topics], [], 'the slow socket left the topic');
  t.same([...fast.socket.topics], ['u1'], 'the other stays');
  publish(3, 'score');
  publish(4, 'score');
  t.equal(slow.connection.waiting, 1, 'two score updates wait as one in its own queue');
  slow.socket.buffered = 0;
  slow.connection.drain();
  t.same(slow.socket.titles(), ['m1', 'm2', 'm4'], 'what it missed, collapsed, nothing twice');
  t.same(fast.socket.titles(), ['m1', 'm2', 'm3', 'm4']);
  publish(5);
  t.same([...slow.socket.topics], ['u1'], 'in step again: back in the group');
  publish(6);
  t.same(topics.titles('u1'), ['m2', 'm3', 'm4', 'm5', 'm6']);
  t.same(slow.socket.titles(), ['m1', 'm2', 'm4', 'm5', 'm6']);
  t.same(fast.socket.titles(), ['m1', 'm2', 'm3', 'm4', 'm5', 'm6']);
});

t.test('a group whose store read fails dissolves: its members go on alone from its position, then regroup', async (t) => {
  const { history, topics, connect, publish } = setup();
  const members = [await connect(0), await connect(0)];
  publish(1);
  history.add(2); // dropped by the bus
  history.failures = 1; // the group's repair fails
  publish(3);
  await settle();
  await settle();
  for (const { socket, connection } of members) {
    t.same([...socket.topics], [], 'out of the failed group');
    t.equal(socket.closedWith, null, 'the sockets stay open');
    t.equal(connection.lastSeq, 3);
    t.same(socket.titles(), ['m1', 'm2', 'm3'], 'each repaired the gap on its own');
  }
  t.equal(history.reads, 3, 'the failed group read, then one per socket');
  publish(4);
  publish(5);
  t.same(members.map(({ socket }) => [...socket.topics]), [['u1'], ['u1']], 'in step again: a new group');
  t.same(topics.titles('u1'), ['m5']);
  for (const { socket } of members) t.same(socket.titles(), ['m1', 'm2', 'm3', 'm4', 'm5']);
});

t.test('a group whose last member went stops: a repair still reading publishes nothing', async (t) => {
  const { history, topics, user, connect, publish } = setup();
  const members = [await connect(0), await connect(0)];
  publish(1);
  let open!: () => void;
  history.gate = new Promise((resolve) => { open = resolve; });
  history.add(2); // dropped by the bus
  publish(3); // the group starts reading the gap
  for (const { connection } of members) {
    connection.stop();
    t.ok(user.remove(connection));
  }
  t.equal(user.size, 0);
  open();
  await settle();
  await settle();
  t.same(topics.titles('u1'), [], 'the stopped group sent nothing');
  // Sentinel: sockets that arrive now get a new group, which does publish.
  const late = [await connect(3), await connect(3)];
  publish(4);
  publish(5);
  t.same(topics.titles('u1'), ['m5']);
  for (const { socket } of late) t.same(socket.titles(), ['m4', 'm5']);
});

t.test('a socket catching up stays on its own until it is in step, then joins at the group\'s position', async (t) => {
  const { history, topics, connect, publish } = setup();
  const live = await connect(0);
  publish(1);
  publish(2);
  let open!: () => void;
  history.gate = new Promise((resolve) => { open = resolve; });
  const late = await connect(2, 'pushwire', 0);
  publish(3); // arrives while the catch-up reads
  t.same([...late.socket.topics], [], 'not in the group while catching up');
  open();
  await late.started;
  await settle();
  t.same(late.socket.titles(), ['m1', 'm2', 'm3'], 'its catch-up, then what came meanwhile, once');
  publish(4);
  t.same([...late.socket.topics], ['u1']);
  publish(5);
  t.same(late.socket.titles(), ['m1', 'm2', 'm3', 'm4', 'm5']);
  t.same(live.socket.titles(), ['m1', 'm2', 'm3', 'm4', 'm5']);
  // Alone, the live socket had no group; with the second socket here it made one at m3, which
  // the late one joined at m4, once its catch-up was done.
  t.same(topics.titles('u1'), ['m4', 'm5']);
});

t.test('each dialect has its own group and topic: the original\'s sockets get bare envelopes', async (t) => {
  const { topics, connect, publish } = setup();
  const [pushwire, original] = [await connect(0, 'pushwire'), await connect(0, 'original'), await connect(0, 'pushwire'), await connect(0, 'original')];
  publish(1);
  publish(2);
  t.same([...pushwire.socket.topics], ['u1']);
  t.same([...original.socket.topics], ['o1']);
  t.same(topics.titles('u1'), ['m2']);
  t.same(topics.titles('o1'), ['m2']);
  t.match(pushwire.socket.frames.at(-1), { type: 'message', body: { title: 'm2' } });
  t.notOk('type' in original.socket.frames.at(-1)!, 'no type field in the original dialect');
  t.match(original.socket.frames.at(-1), { queue: 'q', body: { title: 'm2' } });
});

t.test('a socket alone in its dialect stays on its own, beside one of the other dialect', async (t) => {
  const { topics, user, connect, publish } = setup();
  const pushwire = await connect(0, 'pushwire');
  const original = await connect(0, 'original');
  publish(1);
  publish(2);
  t.equal(user.groupOf('pushwire'), undefined);
  t.equal(user.groupOf('original'), undefined);
  t.same([...pushwire.socket.topics, ...original.socket.topics], [], 'neither joined a topic');
  t.same(topics.titles('u1'), []);
  t.same(pushwire.socket.titles(), ['m1', 'm2'], 'each written to by its own delivery');
  t.same(original.socket.titles(), ['m1', 'm2']);
});
