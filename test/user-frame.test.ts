import t from 'tap';
import { userTopic } from '../core/bus/bus.js';
import { decodeUserFrame, encodeUserFrame } from '../core/bus/user-frame.js';
import type { StoredMessage } from '../core/message.js';

const fields = (message: StoredMessage) => {
  const { userId, seq, queue, micros, kind, replaceId } = message;
  return { userId, seq, queue, micros, kind, replaceId, bodyJson: message.bodyJson };
};

t.test('a user frame carries every field of a message, and its body as the same JSON text', async (t) => {
  const messages: StoredMessage[] = [
    { userId: 12, seq: 1, queue: 'q', micros: 1_764_000_000_123_456, kind: 'message', replaceId: null, body: {}, bodyJson: '{"title":"say \\"hi\\" \\\\ ünï 😀","list":[1,null]}' },
    { userId: 2 ** 53 - 1, seq: 2 ** 53 - 1, queue: 'ünï-😀', micros: 2 ** 53 - 1, kind: 'read', replaceId: '', body: {}, bodyJson: '{}' },
    { userId: 0, seq: 0, queue: 'x'.repeat(300), micros: 0, kind: 'marker', replaceId: 'r 😀'.repeat(100), body: {}, bodyJson: `{"text":"${'y'.repeat(70_000)}"}` },
  ];
  for (const message of messages) {
    const frame = encodeUserFrame(message);
    t.ok(frame.toString('latin1').startsWith(userTopic(message.userId)), `user ${message.userId}'s frame begins with its topic`);
    t.same(fields(decodeUserFrame(frame)), fields(message), `user ${message.userId}, ${message.kind}, replaceId ${JSON.stringify(message.replaceId)?.slice(0, 12)}`);
  }
  const withoutText: StoredMessage = { userId: 7, seq: 3, queue: 'q', micros: 5, kind: 'message', replaceId: 'r', body: { title: 'ünï', n: [1, 2] } };
  t.equal(decodeUserFrame(encodeUserFrame(withoutText)).bodyJson, JSON.stringify(withoutText.body), 'a body without its text is serialised once');
  t.same(decodeUserFrame(encodeUserFrame(withoutText)).body, withoutText.body);
});

t.test('prefix matching keeps users apart: user 12\'s frame is no frame of user 123, nor the reverse', async (t) => {
  const of = (userId: number) => encodeUserFrame({ userId, seq: 1, queue: 'q', micros: 1, kind: 'message', replaceId: null, body: {}, bodyJson: '{}' }).toString('latin1');
  t.notOk(of(12).startsWith(userTopic(123)));
  t.notOk(of(123).startsWith(userTopic(12)));
  t.ok(of(123).startsWith('u.'), 'every user\'s frame matches the every-user topic');
});

t.test('a frame this version did not write, or one cut short, is refused', async (t) => {
  const frame = encodeUserFrame({ userId: 5, seq: 9, queue: 'queue', micros: 1, kind: 'message', replaceId: 'abc', body: {}, bodyJson: '{"a":1}' });
  const topicLength = userTopic(5).length;
  const otherVersion = Buffer.from(frame);
  otherVersion[topicLength] = 2;
  t.throws(() => decodeUserFrame(otherVersion), /version/);
  t.throws(() => decodeUserFrame(Buffer.from('u.5.')), /version/, 'a topic alone');
  const otherKind = Buffer.from(frame);
  otherKind[topicLength + 25] = 3;
  t.throws(() => decodeUserFrame(otherKind), /no kind known \(3\)/, 'a kind this version does not know');
  t.throws(() => decodeUserFrame(frame.subarray(0, topicLength + 36)), 'cut inside the queue\'s name');
  t.throws(() => decodeUserFrame(frame.subarray(0, topicLength + 1 + 29 + 5 + 4 + 2)), /cut short/, 'cut inside the replaceId');
  t.throws(() => decodeUserFrame(Buffer.from('hb.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx')), 'a heartbeat\'s topic');
});
