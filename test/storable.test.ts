import t from 'tap';
import { unstorable } from '../core/storable.js';

t.test('unstorable names where a value holds what PostgreSQL cannot store, and null when nothing', async (t) => {
  t.equal(unstorable({ title: 'ünï 😀', n: 1.5, list: [null, true, 'x'], nested: { deep: ['ok'] } }, 'body'), null, 'text, a surrogate pair, numbers, nulls, nesting');
  t.equal(unstorable('a\u0000b'), 'value');
  t.equal(unstorable('lone \ud800', 'title'), 'title');
  t.equal(unstorable('lone \udc00 low'), 'value');
  t.equal(unstorable({ title: 'ok', body: 'nul \u0000' }, 'body'), 'body.body', 'a field');
  t.equal(unstorable({ list: ['ok', { deep: 'x\ud800' }] }), 'list.1.deep', 'in arrays and objects, by index and key');
  t.equal(unstorable({ ttl: Infinity }), 'ttl', 'a number that is not finite');
  t.equal(unstorable({ ['key \u0000']: 'ok' }, 'body'), 'body', 'a key: its object is named');
  t.equal(unstorable(new Uint8Array([0, 0xd8])), null, 'bytes are not text');
  let deep: unknown = 'x';
  for (let i = 0; i < 40; i++) deep = { d: deep };
  t.equal(typeof unstorable(deep, 'body'), 'string', 'nested past the limit is refused, not walked');
});
