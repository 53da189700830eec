import { Validator } from '@seriousme/openapi-schema-validator';
import t from 'tap';
import { launchChromium, skipWithoutChromium } from './helpers/browser.js';
import { Http } from './helpers/client.js';
import { Contract } from './helpers/contract.js';
import { startEmbedded } from './helpers/system.js';

/**
 * The API's OpenAPI document: valid OpenAPI 3.1, complete (every operation says what it answers),
 * browsable, and a judge that catches answers it does not describe. Every suite's HTTP requests
 * go through that judge (test/helpers/client.ts), so this file checks the judge itself.
 */
const system = await startEmbedded({ PUSHWIRE_ADMIN_TOKEN: 'admin-token-0123456789' });
t.teardown(() => system.stop());
type Operation = { summary?: string; tags?: string[]; responses: Record<string, { content?: Record<string, { schema?: unknown }> }> };
const document = await (await fetch(`${system.apiUrl}/openapi.json`)).json() as { openapi: string; paths: Record<string, Record<string, Operation>>; servers: { url: string }[] };

t.test('/openapi.json is a valid OpenAPI 3.1 document naming this server', async (t) => {
  const validator = new Validator();
  const result = await validator.validate(structuredClone(document));
  t.same(result.errors ?? [], [], 'no errors by the OpenAPI 3.1 schema');
  t.ok(result.valid);
  t.equal(validator.version, '3.1');
  t.same(document.servers, [{ url: system.apiUrl }]);
});

t.test('every operation has a summary, a tag, a success answer with its schema, and its API\'s error body for 4xx', async (t) => {
  const operations = Object.entries(document.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ path, method, operation })));
  // The core API, the operational routes and every compatibility API (all on by default).
  t.ok(operations.length >= 35, `${operations.length} operations`);
  for (const expected of ['post /token/', 'post /queue/{queue}/', 'get /queue/{queue}/', 'post /publish', 'get /nodes/', 'post /devices/', 'get /health',
    'post /push/subscribe', 'post /pushjack/apns/send', 'get /notifications', 'post /pushlet/send_notification']) {
    t.ok(operations.some(({ path, method }) => `${method} ${path}` === expected), `${expected} is documented`);
  }
  const incomplete = operations.filter(({ operation }) => {
    const success = Object.entries(operation.responses).find(([status]) => status.startsWith('2'));
    const described = success && Object.values(success[1].content ?? {}).every((media) => media.schema !== undefined) && success[1].content !== undefined;
    return !operation.summary || !operation.tags?.length || !described;
  }).map(({ path, method }) => `${method} ${path}`);
  t.same(incomplete, [], 'none lacks a summary, a tag or a described success');
  // Pushlet's clients read Pushlet's own error shape (see api/compat/pushlet-errors.ts); every other API answers Pushwire's.
  const errorSchema = (path: string) => ({ $ref: `#/components/schemas/${path.startsWith('/pushlet/') ? 'PushletError' : 'Error'}` });
  const withoutError = operations.filter(({ path, operation }) => ['4XX', '5XX'].some((range) =>
    JSON.stringify(operation.responses[range]?.content?.['application/json']?.schema) !== JSON.stringify(errorSchema(path))))
    .map(({ path, method }) => `${method} ${path}`);
  t.same(withoutError, [], 'every operation answers its errors as its API\'s error schema');
});

t.test('the judge accepts what the server does and catches what the document does not say', async (t) => {
  const contract = (await Contract.of(system.apiUrl))!;
  t.ok(contract, 'the api publishes a document');
  t.equal(await Contract.of(system.monitorUrl), null, 'the monitor publishes none');
  const exchange = (fields: Partial<Parameters<Contract['problems']>[0]>) => contract.problems({
    method: 'POST', url: new URL(`${system.apiUrl}/token/`), status: 200, responseType: 'application/json; charset=utf-8',
    responseText: JSON.stringify({ token: 't', queue: 'http://x/queue/q/' }), ...fields,
  });
  t.same(exchange({}), [], 'a token answer as documented');
  t.match(exchange({ responseText: JSON.stringify({ token: 't' }) }), [/POST \/token\/ → 200: response: .*must have required property 'queue'/]);
  const errorBody = (error: string) => JSON.stringify({ error, message: 'm', status: 'error', errors: [{ location: 'body', name: error, description: 'm' }] });
  t.match(exchange({ status: 404, responseText: errorBody('not_a_code') }), [/response: .*must be equal to one of the allowed values/]);
  t.match(exchange({ status: 400, responseText: JSON.stringify({ error: 'bad_request', message: 'm' }) }), [/must have required property 'status'/], 'an error without the original service\'s fields');
  t.match(exchange({ url: new URL(`${system.apiUrl}/nowhere`), status: 200 }), [/a JSON answer from a route the document does not list/]);
  t.same(exchange({ url: new URL(`${system.apiUrl}/nowhere`), status: 404, responseText: errorBody('not_found') }), [], 'a 404 there is fine');
  t.match(exchange({ url: new URL(`${system.apiUrl}/queue/q/?limit=0`), method: 'GET', responseText: JSON.stringify({ messages: [], more: false, truncated: false, timestamp: null }) }),
    [/query limit: data must be >= 1/], 'an accepted request the document forbids');
  t.match(exchange({ url: new URL(`${system.apiUrl}/queue/q/`), requestType: 'text/plain', requestText: 'hi', responseText: '{"key":"k","timestamp":"1","queue":"q","body":{},"messages":[{"key":"k","timestamp":"1"}],"status":"ok"}' }),
    [/request text\/plain not documented/]);
  // Moxie's routes read any body as JSON (`*/*`): a text/plain body is judged as the JSON it holds.
  const registered = { url: new URL(`${system.apiUrl}/notifications/register/gcm`), status: 202, responseText: '{"success":true}', requestType: 'text/plain' };
  t.same(exchange({ ...registered, requestText: '{"registration_id":"abc"}' }), [], 'a Moxie registration sent as text/plain');
  t.match(exchange({ ...registered, requestText: '{"registration_id":{"id":5}}' }), [/request body: .*must be string/], 'and what it holds is still checked');

  // And through the helper every suite uses: a real exchange the document describes passes.
  const http = new Http(system.apiUrl);
  const { queue } = await http.user();
  t.equal((await http.request('POST', queue, { form: { title: 'by form', ttl: '60' } })).status, 200, 'a form publish, checked against the document');
});

t.test('/docs shows the document in a browser', { skip: skipWithoutChromium }, async (t) => {
  const { page, errors } = await launchChromium(t, { width: 1200, height: 900 });
  await page.goto(`${system.apiUrl}/docs`);
  await page.getByText('/queue/{queue}/').first().waitFor({ timeout: 30_000 });
  t.ok(await page.getByText('Publish many messages to many queues').count() > 0, 'operations are listed with their summaries');
  t.same(errors, [], 'no script errors');
});
