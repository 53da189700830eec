import t from 'tap';
import { formatTimestamp, parseTimestamp } from '../core/ids.js';
import { envelopeJson, publishAnswer, publishAnswerJson, toEnvelope, toFrame, type StoredMessage } from '../core/message.js';

t.test('timestamps: whole microseconds as seconds with six decimals, as toFixed writes them, and back', async (t) => {
  const now = Date.now() * 1000;
  const samples = [0, 1, 999_999, 1_000_000, 1_000_001, 1_700_000_000_000_000, 1_700_000_000_000_007, 1_700_000_000_099_999, 1_700_000_000_100_000,
    4_294_967_295_999_999, ...Array.from({ length: 2000 }, (_, index) => now + index * 7_919 + (index % 10) * 100_003)];
  t.same(samples.map(formatTimestamp), samples.map((micros) => (micros / 1e6).toFixed(6)));
  t.same(samples.map((micros) => parseTimestamp(formatTimestamp(micros))), samples, 'each reads back as the time it was');
  t.equal(formatTimestamp(1_700_000_000_000_042), '1700000000.000042', 'leading zeros kept');
  t.equal(formatTimestamp(1.5), (1.5 / 1e6).toFixed(6), 'what is not whole microseconds is written as before');
});

t.test("frames and answers are the JSON of their envelope, whatever the queue's name or the public URL", async (t) => {
  const message = (queue: string): StoredMessage => ({
    userId: 7, seq: 42, queue, micros: 1_700_000_000_000_042, kind: 'message', replaceId: null, body: { title: 'é "quoted" \u2028', n: [1, null] },
  });
  const urls = ['http://localhost:8080', 'https://push.example/pw', 'http://h"ost', 'http://hôst/ä\\'];
  const names = ['0123456789abcdef0123456789abcdef', 'site_name-1', 'spaced name', 'quote"d', 'ünï', ''];
  for (const url of urls) {
    for (const name of names) {
      const stored = message(name);
      t.equal(toFrame(stored, url), JSON.stringify({ type: 'message', ...toEnvelope(stored, url) }), `frame: ${url} ${name}`);
      t.equal(envelopeJson(stored, url), JSON.stringify(toEnvelope(stored, url)), `envelope: ${url} ${name}`);
      t.equal(publishAnswerJson(stored, url), JSON.stringify(publishAnswer(stored, url)), `answer: ${url} ${name}`);
    }
  }
});
