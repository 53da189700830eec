import t from 'tap';
import { addressedUrl, originalSignedString, parseDateHeader, sign } from '../api/compat/hmac.js';

// Moxie's signing as its own tests define it (moxie/tests/test_authentication_hmac.py).
t.test("Moxie's test vector: GET http://localhost/test, Date Wednesday, nonce foobarbaz", async (t) => {
  const text = originalSignedString('GET', 'http://localhost/test', 'Wednesday', 'foobarbaz');
  t.equal(text, 'GET\nhttp://localhost/test\ndate:Wednesday\nx-hmac-nonce:foobarbaz', 'four lines, no trailing newline');
  t.equal(sign('mysupersecretkey', text), '668db85d1dff6718d778454fc8c1d368a906f675');
  t.not(sign('mysupersecretkey', originalSignedString('GET', 'http://localhost:5000/test', 'Wednesday', 'foobarbaz')), '668db85d1dff6718d778454fc8c1d368a906f675', 'the port is signed');
});

t.test('the URL signed is the one the client addressed, as Werkzeug rebuilds it', async (t) => {
  t.equal(addressedUrl({ protocol: 'http', host: 'localhost', url: '/test' }), 'http://localhost/test');
  t.equal(addressedUrl({ protocol: 'http', host: 'localhost:80', url: '/test' }), 'http://localhost/test', 'a default port is dropped');
  t.equal(addressedUrl({ protocol: 'https', host: 'api.m.ox.ac.uk:443', url: '/notifications/?history=1' }), 'https://api.m.ox.ac.uk/notifications/?history=1');
  t.equal(addressedUrl({ protocol: 'http', host: '127.0.0.1:5000', url: '/notifications/push?' }), 'http://127.0.0.1:5000/notifications/push', 'an empty query adds no ?');
});

t.test("Date: RFC 1123, and date(1)'s output with the zones people have", async (t) => {
  t.equal(parseDateHeader('Fri, 10 Jan 2014 11:49:55 GMT'), Date.UTC(2014, 0, 10, 11, 49, 55));
  t.equal(parseDateHeader('Fri Jan 10 11:49:55 UTC 2014'), Date.UTC(2014, 0, 10, 11, 49, 55));
  t.equal(parseDateHeader('Fri Jan 10 12:49:55 CET 2014'), Date.UTC(2014, 0, 10, 11, 49, 55));
  t.equal(parseDateHeader('Sat Jul  5 10:49:55 BST 2014'), Date.UTC(2014, 6, 5, 9, 49, 55));
  t.ok(Number.isNaN(parseDateHeader('Wednesday')), 'not a date: refused by the Date window');
});
