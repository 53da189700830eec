import type { Test } from 'tap';
import type { System } from '../helpers/system.js';
import { withPushSystem } from '../servers/all.js';
import { p12Forms, p12WithoutApnsMark } from '../servers/p12-forms.js';
import { P12_PASSPHRASE } from '../servers/pki.js';

const AUTH = { user: 'pushlet-user', password: 'pushlet-secret' };

/** The Pushlet API as its users know it, at /pushlet, against the local APNs and GCM servers. */
export function pushletSuite(t: Test, start: (env: Record<string, string>) => Promise<System>): void {
  const push = withPushSystem(t, start, { PUSHWIRE_PUSHLET_USER: AUTH.user, PUSHWIRE_PUSHLET_PASSWORD: AUTH.password });

  const basic = (user = AUTH.user, password = AUTH.password) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  async function call(path: string, body: FormData | Record<string, string>, authorization: string | null = basic(), method = 'POST') {
    const headers: Record<string, string> = authorization ? { authorization } : {};
    const init: RequestInit = body instanceof FormData
      ? { method, body, headers }
      : { method, body: new URLSearchParams(body).toString(), headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' } };
    const response = await fetch(`${push.system().apiUrl}/pushlet${path}`, init);
    return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
  }

  /** A Pushlet error as Pushlet answers it: HTTP 200, the code and message nested under `error`. */
  function pushletError(t: Test, answer: { status: number; body: Record<string, unknown> }, type: string, message: string | RegExp, what = type): void {
    t.equal(answer.status, 200, `${what}: HTTP 200, as Pushlet`);
    t.match(answer.body, { error: { type, message } }, `${what}: nested error`);
    t.same(Object.keys(answer.body), ['error'], `${what}: nothing else`);
  }

  function p12Form(fields: Record<string, string> = {}, p12: Buffer = Buffer.from(push.servers().pki.clientP12, 'base64')): FormData {
    const form = new FormData();
    form.append('apns_p12', new Blob([new Uint8Array(p12)]), 'cert.p12');
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    return form;
  }

  const token = (n: number) => `fe${n.toString(16).padStart(62, '0')}`;

  t.test('HTTP basic auth: a failure is answered as Pushlet did', async (t) => {
    const none = await call('/application_feedback', { application_id: 'x' }, null);
    pushletError(t, none, 'access denied', 'invalid credentials', 'no credentials');
    t.equal(none.headers.get('www-authenticate'), null, 'no challenge, as Pushlet');
    t.equal(none.headers.get('pushwire-error'), 'unauthorized', 'the code for logs and proxies');
    pushletError(t, await call('/application_feedback', { application_id: 'x' }, basic('pushlet-user', 'wrong')), 'access denied', 'invalid credentials', 'wrong password');
    const unknown = await call('/no_such_route', {});
    t.same([unknown.status, unknown.body], [404, { error: { type: 'not_found', message: 'The requested method was not found: /pushlet/no_such_route' } }], 'an unknown route: 404, as Pushlet');
    t.equal((await call('/send_notification', {}, basic(), 'PUT')).status, 404, 'an unrouted method too');
  });

  t.test('register_application: P12 or PEM, given or generated id, and every certificate error', async (t) => {
    const generated = await call('/register_application', p12Form({ apns_p12_pass: P12_PASSPHRASE, apns_mode: 'development' }));
    t.equal(generated.status, 200);
    t.match(generated.body.application_id, /^[0-9a-f-]{36}$/, 'a UUID when none is given');
    const named = await call('/register_application', p12Form({ apns_p12_pass: P12_PASSPHRASE, application_id: 'my-app', apns_mode: 'development' }));
    t.same(named.body, { application_id: 'my-app' }, 'only the id comes back, never the certificate');
    const pem = new FormData();
    pem.append('apns_pem', new Blob([push.servers().pki.clientCertPem + push.servers().pki.clientKeyPem]), 'cert.pem');
    pem.append('application_id', 'pem-app');
    pem.append('apns_mode', 'development');
    t.same((await call('/register_application', pem)).body, { application_id: 'pem-app' });
    pushletError(t, await call('/register_application', { application_id: 'nothing' }), 'missing_apns_certificate', 'an apns_p12 or apns_pem certificate is required for this call');
    const p12Error = /^could not process apns_p12 certificate, check that it is in p12 format and is valid/;
    pushletError(t, await call('/register_application', p12Form({}, Buffer.from('not a certificate'))), 'invalid_apns_p12', p12Error, 'not a P12');
    pushletError(t, await call('/register_application', p12Form({ apns_p12_pass: 'wrong passphrase' })), 'invalid_apns_p12', /wrong password/, 'wrong password');
    pushletError(t, await call('/register_application', p12Form({ application_id: 'not-apple' }, p12WithoutApnsMark())), 'invalid_apns_p12', /not for APNS's production environment/, 'a certificate Apple did not mark');
  });

  t.test('register_application: every P12 form Keychain and OpenSSL export registers and sends', async (t) => {
    for (const [index, form] of p12Forms(push.servers().pki).entries()) {
      const registered = await call('/register_application', p12Form({ application_id: `form-${index}`, apns_mode: 'development', ...(form.passphrase ? { apns_p12_pass: form.passphrase } : {}) }, form.p12));
      t.same([registered.status, registered.body], [200, { application_id: `form-${index}` }], `${form.name}: registered`);
      const sent = await call('/send_notification', { application_id: `form-${index}`, device_token: token(40 + index), alert: form.name });
      t.same(sent.body, { response: 'ok' }, `${form.name}: sent`);
      t.equal(push.servers().apns.requests.find((r) => r.token === token(40 + index))?.auth, 'certificate', `${form.name}: with the certificate`);
    }
  });

  t.test('send_notification to APNS: alert, badge, sound, identifier and data; dead tokens go to the feedback', async (t) => {
    const sent = await call('/send_notification', { type: 'apns', application_id: 'my-app', device_token: token(1), alert: 'Hello', badge: '3', sound: 'chime.caf', identifier: 'abcd', data: '{"story":42}' });
    t.same([sent.status, sent.body], [200, { response: 'ok' }]);
    const request = push.servers().apns.requests.find((r) => r.token === token(1))!;
    t.same(request.payload, { story: 42, aps: { alert: 'Hello', badge: 3, sound: 'chime.caf' } });
    t.equal(request.auth, 'certificate');
    t.equal(request.headers['apns-collapse-id'], undefined, 'identifier numbered binary-protocol sends; it collapses nothing');
    push.servers().apns.reply = (tok) => (tok === token(2) ? { status: 410, reason: 'Unregistered' } : { status: 200 });
    t.teardown(() => { push.servers().apns.reply = () => ({ status: 200 }); });
    t.same((await call('/send_notification', { type: 'apns', application_id: 'pem-app', device_token: token(2), alert: 'gone?' })).body, { response: 'ok' });
    const feedback = await call('/application_feedback', { application_id: 'pem-app' });
    t.equal(feedback.status, 200);
    t.match(feedback.body, { response: [{ device_token: token(2), timestamp: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/ }] });
  });

  t.test('send_notification to GCM: the multicast result, canonical ids, credentials rejected', async (t) => {
    push.servers().google.gcmReply = (id) => (id === 'moved' ? { ok: true, canonical: 'moved-new' } : { ok: true });
    t.teardown(() => { push.servers().google.gcmReply = () => ({ ok: true }); });
    const sent = await call('/send_notification', { type: 'gcm', gcm_api_key: 'legacy-server-key', device_token: 'phone-1', data: '{"text":"hello"}' });
    t.match(sent.body, { success: 1, failure: 0, canonical_ids: 0, results: [{ message_id: /.+/ }] });
    t.type(sent.body.multicast_id, 'number');
    t.same(push.servers().google.gcm.at(-1)!.body.data, { text: 'hello' });
    const moved = await call('/send_notification', { type: 'gcm', gcm_api_key: 'legacy-server-key', device_token: 'moved' });
    t.match(moved.body, { canonical_ids: 1, results: [{ registration_id: 'moved-new' }] });
    const rejected = await call('/send_notification', { type: 'gcm', gcm_api_key: 'wrong-key', device_token: 'phone-1' });
    pushletError(t, rejected, 'invalid_gcm_credentials', 'the provided credentials were rejected by google servers');
  });

  t.test("send_notification as Pushlet's README shows it: no type, the service from the identifier; fields in the query string too", async (t) => {
    // curl http://127.0.0.1:9292/send_notification -d "device_token=…&alert=…&application_id=…"
    t.same((await call('/send_notification', { device_token: token(20), alert: 'YOUR TEXT MESSAGE', application_id: 'my-app' })).body, { response: 'ok' });
    t.equal(push.servers().apns.requests.find((r) => r.token === token(20))?.payload.aps.alert, 'YOUR TEXT MESSAGE', 'APNS: the application has a certificate');
    // curl … -d "device_token=…&gcm_api_key=…&data=%7B%22text%22%3A%22hello%22%7D"
    t.match((await call('/send_notification', { device_token: 'phone-readme', gcm_api_key: 'legacy-server-key', data: '{"text":"hello"}' })).body, { success: 1 });
    t.same(push.servers().google.gcm.at(-1)!.body.data, { text: 'hello' }, 'GCM: a GCM key');
    const query = new URLSearchParams({ application_id: 'my-app', device_token: token(21), alert: 'from the query' });
    t.same((await call(`/send_notification?${query}`, {})).body, { response: 'ok' });
    t.equal(push.servers().apns.requests.find((r) => r.token === token(21))?.payload.aps.alert, 'from the query');
    pushletError(t, await call('/send_notification', { device_token: token(22), application_id: 'no-such-app' }), 'application_not_found', 'no application found for the provided application_id', 'no type, unknown application');
  });

  t.test("send_notification: Pushlet's errors", async (t) => {
    const cases: [Record<string, string>, string, string | RegExp][] = [
      [{ type: 'apns', device_token: token(3) }, 'missing_identifier', 'an application_id or gcm_api_key are required for this call'],
      [{ type: 'apns', application_id: 'my-app' }, 'device_token_required', 'device_token is required, which is registed with the application on your phone'],
      [{ type: 'apns', application_id: 'my-app', device_token: token(3), data: '{broken' }, 'invalid_data_json', /^data could not be converted to json: /],
      [{ type: 'apns', application_id: 'no-such-app', device_token: token(3) }, 'application_not_found', 'no application found for the provided application_id'],
      [{ type: 'carrier-pigeon', application_id: 'my-app', device_token: token(3) }, 'invalid_type', /apns/],
    ];
    for (const [body, error, message] of cases) pushletError(t, await call('/send_notification', body), error, message);
    pushletError(t, await call('/application_feedback', {}), 'missing_application_id', 'an application_id is required for this call');
    pushletError(t, await call('/application_feedback', { application_id: 'no-such-app' }), 'application_not_found', 'no application found for the provided application_id');
  });

  t.test('registered applications survive a restart', async (t) => {
    await push.system().restartAll();
    const sent = await call('/send_notification', { type: 'apns', application_id: 'my-app', device_token: token(9), alert: 'after restart' });
    t.same(sent.body, { response: 'ok' });
    t.ok(push.servers().apns.requests.some((r) => r.token === token(9)));
  });
}
