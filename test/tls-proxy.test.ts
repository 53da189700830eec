import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createClient } from '../sdk/node.js';
import { launchChromium, screenshot, skipWithoutChromium } from './helpers/browser.js';
import { eventually, Http, sleep } from './helpers/client.js';
import { freePorts } from './helpers/ports.js';
import { Daemon } from './helpers/process.js';
import { ROOT, startEmbedded } from './helpers/system.js';
import { loadPki } from './servers/pki.js';

/**
 * The reverse-proxy recipe, deploy/nginx/pushwire.conf, run as it ships (only its ports, name
 * and certificate paths substituted) in front of `npm start`: TLS on one port, the API at /,
 * the gateways at /ws/. Clients that know only the proxy's https:// URL find the gateway through
 * /nodes/ and connect over wss://, from Node and from Chromium.
 */
const NGINX = '/usr/sbin/nginx';
const skip = existsSync(NGINX) || process.env.CI ? false : `no ${NGINX}: apt-get install nginx`;
if (skip) {
  t.plan(0, skip);
} else {
  const [port] = await freePorts(1);
  const proxy = `https://127.0.0.1:${port}`;
  const system = await startEmbedded({ PUSHWIRE_PUBLIC_URL: proxy, PUSHWIRE_GATEWAY_ADDRESS: `wss://127.0.0.1:${port}/ws/`, PUSHWIRE_TRUST_PROXY: '127.0.0.1' });
  t.teardown(() => system.stop());
  const nginx = await startNginx(port, new URL(system.apiUrl).host, new URL(system.wsUrl).host);
  t.teardown(() => nginx.stop());
  const direct = new Http(system.apiUrl);
  const proxied = new Http(proxy);

  t.test('through the proxy: the API over https, /nodes/ lists the gateway as the proxy reaches it', async (t) => {
    t.same((await proxied.request('GET', '/nodes/')).body, { nodes: [`wss://127.0.0.1:${port}/ws/`] });
    const { token, queue } = await proxied.user();
    t.ok(queue.startsWith(`${proxy}/queue/`), 'queue URLs are the proxy\'s');
    t.equal((await proxied.request('POST', queue, { json: { title: 'over https' } })).status, 200);
    t.equal((await direct.request<{ messages: unknown[] }>('GET', `${new URL(queue).pathname}?token=${token}`)).body.messages.length, 1, 'stored');
  });

  t.test('the Node SDK given only the proxy\'s https:// URL connects over wss:// and receives', async (t) => {
    const { token, queue } = await proxied.user();
    const client = createClient({ api: proxy, token, backoff: { initialMs: 100, maxMs: 1000 } });
    t.teardown(() => client.stop());
    const received: string[] = [];
    client.on('message', (message) => received.push(message.key));
    const connected = new Promise<void>((resolve) => client.once('connected', () => resolve()));
    client.start();
    await connected;
    t.equal(client.node, `wss://127.0.0.1:${port}/ws/`, 'the gateway as /nodes/ lists it');
    await sleep(300);
    const sent = await proxied.publish(queue, { title: 'to Node over wss' });
    await eventually(() => received.length === 1);
    t.same(received, [sent.key]);
  });

  t.test('the demo page over https in Chromium: the browser SDK connects over wss:// and shows a message', { skip: skipWithoutChromium }, async (t) => {
    const { page, errors } = await launchChromium(t, { width: 900, height: 700 }, { ignoreHTTPSErrors: true });
    const sockets: string[] = [];
    page.on('websocket', (socket) => sockets.push(socket.url()));
    await page.goto(`${proxy}/demo/`);
    await page.waitForSelector('#state[data-state="connected"]', { timeout: 20_000 });
    t.same(sockets, [`wss://127.0.0.1:${port}/ws/`], 'one websocket, through the proxy');
    const queue = (await page.locator('#queue').textContent())!;
    t.ok(queue.startsWith(`${proxy}/queue/`));
    await sleep(300);
    const sent = await proxied.publish(queue, { title: 'Hello over TLS' });
    await page.waitForSelector(`li[data-key="${sent.key}"]`, { timeout: 10_000 });
    await screenshot(page, 'tls-proxy-demo.png');
    t.same(errors, []);
  });
}

/** nginx in the foreground, as its own process group, with the recipe included in a minimal main configuration. */
async function startNginx(port: number, api: string, gateway: string): Promise<{ stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'pushwire-nginx-'));
  // The workers run as nobody: they read the key and write their temporary files here.
  chmodSync(dir, 0o755);
  const pki = loadPki();
  writeFileSync(join(dir, 'cert.pem'), pki.serverCertPem);
  writeFileSync(join(dir, 'key.pem'), pki.serverKeyPem, { mode: 0o644 });
  let site = readFileSync(join(ROOT, 'deploy', 'nginx', 'pushwire.conf'), 'utf8');
  for (const [from, to] of [
    ['server 127.0.0.1:5001;', `server ${api};`], ['server 127.0.0.1:5002;', `server ${gateway};`], ['listen 8443 ssl', `listen 127.0.0.1:${port} ssl`],
    ['/etc/pushwire/tls/fullchain.pem', join(dir, 'cert.pem')], ['/etc/pushwire/tls/privkey.pem', join(dir, 'key.pem')],
  ]) {
    if (site.split(from).length !== 2) throw new Error(`deploy/nginx/pushwire.conf no longer holds "${from}" once`);
    site = site.replace(from, to);
  }
  writeFileSync(join(dir, 'pushwire.conf'), site);
  const temp = join(dir, 'temp');
  mkdirSync(temp, { mode: 0o777 });
  chmodSync(temp, 0o777);
  writeFileSync(join(dir, 'nginx.conf'), [
    'daemon off;', 'worker_processes 1;', `pid ${join(dir, 'nginx.pid')};`, 'error_log stderr warn;', 'events { worker_connections 1024; }',
    `http { access_log off; ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `${kind}_temp_path ${join(temp, kind)};`).join(' ')}`,
    `  include ${join(dir, 'pushwire.conf')}; }`,
  ].join('\n'));
  const daemon = new Daemon('nginx', NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr'], process.env, dir).start();
  const deadline = Date.now() + 20_000;
  for (;;) {
    const ready = await fetch(`https://127.0.0.1:${port}/health`).then((response) => response.status === 200, () => false);
    if (ready) break;
    if (!daemon.running || Date.now() > deadline) throw new Error(`nginx did not answer:\n${daemon.output.join('')}`);
    await sleep(100);
  }
  return {
    stop: async () => {
      await daemon.stop('SIGQUIT');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
