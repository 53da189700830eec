import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadUws } from '../gateway/transport/uws-loader.js';
import { Http, WsClient } from './helpers/client.js';
import { portSet } from './helpers/ports.js';
import { ROOT, startEmbedded } from './helpers/system.js';

// Which transport serves the gateway, and that the choice is said where an operator looks.
const uws = loadUws();
const expected = uws.uws ? { name: 'uws', detail: `uWebSockets.js (${uws.name})` } : { name: 'ws', detail: `ws on node:http (Node ${process.version})` };

t.test(`auto: ${expected.detail} on Node ${process.version}, said in the banner, /health and /status`, async (t) => {
  const system = await startEmbedded({ PUSHWIRE_GATEWAY_TRANSPORT: 'auto' });
  t.teardown(() => system.stop());
  const banner = system.output();
  t.match(banner, `served by ${expected.detail}`);
  if (expected.name === 'ws') t.match(banner, /no uWebSockets\.js build loads in Node v[\d.]+: .*PUSHWIRE_GATEWAY_TRANSPORT chooses/, 'and why not uWS');
  else t.notMatch(banner, 'no uWebSockets.js build loads', 'no fallback note');
  const health = (await new Http(system.wsUrl.replace(/^ws/, 'http').replace(/\/$/, '')).request<Record<string, string>>('GET', '/health')).body;
  t.match(health, { transport: expected.name, transportDetail: expected.detail, node: process.version });
  const status = (await new Http(system.monitorUrl).request<{ gateways: Record<string, string>[] }>('GET', '/status')).body;
  t.match(status.gateways[0], { transport: expected.name, node: process.version });

  const api = new Http(system.apiUrl);
  const { token, queue } = await api.user();
  const client = await WsClient.connect(system.wsUrl, { token });
  await client.waitFor((frame) => frame.type === 'hello');
  const published = await api.publish(queue, { title: 'on this transport' });
  t.equal((await client.waitForMessages(1))[0].key, published.key, 'a published message reaches a websocket client');
  client.close();
});

t.test('uws forced where no build loads: the daemon refuses to start and says why', { skip: uws.uws ? `a uWS build loads here (${uws.name})` : false }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'pushwire-data-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const result = spawnSync(process.execPath, ['dist/embedded/main.js'], {
    cwd: ROOT, encoding: 'utf8', timeout: 60_000,
    env: { PATH: process.env.PATH, ...(await portSet()), PUSHWIRE_PROFILE: 'test', PUSHWIRE_DATA_DIR: dataDir, PUSHWIRE_GATEWAY_TRANSPORT: 'uws' },
  });
  t.equal(result.status, 1);
  t.match(result.stderr, /^pushwire pushwire: failed to start: PUSHWIRE_GATEWAY_TRANSPORT=uws, but no uWebSockets\.js build loads in Node v[\d.]+: /m);
  t.notMatch(result.stdout, 'Pushwire is running.');
});
