/**
 * `npm run bench:push`: pushes per second to 10,000 devices per platform, through the whole
 * multi-process system (publish → outbox → push worker → provider library) to the local APNs,
 * Google and Web Push servers of the tests, which run in this process and do real work too
 * (JWT checks, aes128gcm decryption). Prints a markdown table of medians.
 *
 *   npm run bench:push -- --devices 10000 --runs 3
 */
import { join } from 'node:path';
import { Http } from '../test/helpers/client.js';
import { ROOT, startMultiprocess } from '../test/helpers/system.js';
import { startPushServers, type PushServers } from '../test/servers/all.js';
import { ensurePki, PKI_DIR_ENV } from '../test/servers/pki.js';
import { PLATFORMS, type Platform } from '../core/store/devices.js';
import { benchCommand, positive } from './args.js';

const args = benchCommand('bench:push', 'Pushes per second to devices of each platform, through the multi-process system to local APNs, Google and Web Push servers.')
  .option('--devices <n>', 'devices per platform', positive, 10000)
  .option('--runs <n>', 'runs; the table shows medians', positive, 3)
  .parse()
  .opts<{ devices: number; runs: number }>();
const DEVICES = args.devices;
const RUNS = args.runs;

const pkiDir = join(ROOT, 'test-artifacts', 'pki');
ensurePki(pkiDir);
process.env[PKI_DIR_ENV] = pkiDir;


/** Pushes the local servers have accepted so far, per platform. */
function accepted(servers: PushServers, platform: Platform): number {
  switch (platform) {
    case 'apns': return servers.apns.requests.length;
    case 'fcm': return servers.google.fcm.length;
    case 'gcm': return servers.google.gcm.reduce((sum, request) => sum + request.registrationIds.length, 0);
    case 'webpush': return servers.webpush.requests.length;
  }
}

async function registerAll(api: Http, token: string, platform: Platform, servers: PushServers): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < DEVICES) {
      const i = next++;
      const json = platform === 'webpush'
        ? { platform, subscription: servers.webpush.subscribe().subscription }
        : { platform, token: platform === 'apns' ? i.toString(16).padStart(64, '0') : `${platform}-device-${i}` };
      const result = await api.request('POST', '/devices/', { json, headers: { 'x-auth-token': token } });
      if (result.status !== 201) throw new Error(`register: ${result.status} ${JSON.stringify(result.body)}`);
    }
  }));
}

async function main(): Promise<void> {
  const servers = await startPushServers();
  const system = await startMultiprocess({
    ...servers.env,
    NODE_EXTRA_CA_CERTS: join(pkiDir, 'ca.pem'),
    PUSHWIRE_MAX_DEVICES_PER_TOKEN: String(DEVICES),
  });
  const rows: string[] = [];
  try {
    const api = new Http(system.apiUrl);
    for (const platform of PLATFORMS) {
      const user = await api.user();
      const registering = Date.now();
      await registerAll(api, user.token, platform, servers);
      process.stderr.write(`${platform}: ${DEVICES} devices registered in ${((Date.now() - registering) / 1000).toFixed(1)} s\n`);
      const rates: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        const before = accepted(servers, platform);
        const started = performance.now();
        await api.publish(user.queue, { title: `bench ${run}`, body: 'x'.repeat(100) });
        const deadline = Date.now() + 300_000;
        while (accepted(servers, platform) - before < DEVICES && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
        const seconds = (performance.now() - started) / 1000;
        rates.push((accepted(servers, platform) - before) / seconds);
        process.stderr.write(`${platform} run ${run + 1}: ${accepted(servers, platform) - before} pushes in ${seconds.toFixed(2)} s\n`);
      }
      const median = [...rates].sort((a, b) => a - b)[Math.floor(rates.length / 2)];
      rows.push(`| ${platform} | ${DEVICES} | ${Math.round(median)} | ${(DEVICES / median).toFixed(2)} |`);
    }
  } finally {
    await system.stop();
    await servers.close();
  }
  process.stdout.write([
    `Medians of ${RUNS} messages, each to ${DEVICES} devices of one platform; one push worker; local provider servers in the load process; same 2-core machine.`,
    '', '| platform | devices | pushes/s | seconds per message |', '|---|---:|---:|---:|', ...rows, '',
  ].join('\n'));
  process.exit(0);
}

await main();
