import { mkdtempSync, writeFileSync } from 'node:fs';
import type { Test } from 'tap';
import type { System } from '../helpers/system.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalApns } from './apns.js';
import { LocalGoogle } from './google.js';
import { loadPki, type Pki } from './pki.js';
import { LocalWebPush } from './webpush.js';

export interface PushServers {
  pki: Pki;
  apns: LocalApns;
  google: LocalGoogle;
  webpush: LocalWebPush;
  /** The configuration that points a Pushwire at these servers. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export const APNS = { keyId: 'KEY1234567', teamId: 'TEAM765432', topic: 'com.example.pushwire' };
const GOOGLE = { projectId: 'pushwire-test', clientEmail: 'pusher@pushwire-test.iam.gserviceaccount.com', serverKey: 'legacy-server-key' };

/** Local APNs, Google (OAuth, FCM v1, legacy GCM) and Web Push services, and the env for them. */
export async function startPushServers(): Promise<PushServers> {
  const pki = loadPki();
  const apns = await new LocalApns(pki, APNS).start();
  const google = await new LocalGoogle(pki, GOOGLE).start();
  const webpush = await new LocalWebPush(pki).start();
  const dir = mkdtempSync(join(tmpdir(), 'pushwire-credentials-'));
  const serviceAccountFile = join(dir, 'service-account.json');
  writeFileSync(serviceAccountFile, JSON.stringify(google.serviceAccount(pki)));
  return {
    pki, apns, google, webpush,
    env: {
      PUSHWIRE_APNS_KEY_FILE: join(pki.dir, 'apns-key.p8'),
      PUSHWIRE_APNS_KEY_ID: APNS.keyId,
      PUSHWIRE_APNS_TEAM_ID: APNS.teamId,
      PUSHWIRE_APNS_TOPIC: APNS.topic,
      PUSHWIRE_APNS_ADDRESS: apns.address,
      PUSHWIRE_FCM_SERVICE_ACCOUNT_FILE: serviceAccountFile,
      PUSHWIRE_FCM_ENDPOINT: google.url,
      PUSHWIRE_GCM_SERVER_KEY: GOOGLE.serverKey,
      PUSHWIRE_GCM_ENDPOINT: `${google.url}/fcm/send`,
      PUSHWIRE_VAPID_SUBJECT: 'mailto:ops@pushwire.test',
      // The local Web Push service is on loopback: allowed as a push service of our own.
      PUSHWIRE_WEBPUSH_PRIVATE_ADDRESSES: '127.0.0.0/8,::1',
      PUSHWIRE_PUSH_ACK_TIMEOUT_MS: '1500',
      PUSHWIRE_PUSH_POLL_MS: '50',
      PUSHWIRE_PUSH_MAX_BACKOFF_MS: '1000',
      PUSHWIRE_PUSH_LEASE_MS: '2000',
      PUSHWIRE_ADMIN_TOKEN: 'admin-token-for-tests-only',
    },
    close: async () => {
      await Promise.all([apns.close(), google.close(), webpush.close()]);
    },
  };
}

/**
 * Starts the local push services and a system pointed at them before a test file's tests, and
 * stops both after them. Returns getters, valid once the tests run.
 */
export function withPushSystem(
  t: Test,
  start: (env: Record<string, string>) => Promise<System>,
  extraEnv: Record<string, string> = {},
): { system: () => System; servers: () => PushServers } {
  let servers: PushServers;
  let system: System;
  t.before(async () => {
    servers = await startPushServers();
    system = await start({ ...servers.env, ...extraEnv });
  });
  t.teardown(async () => {
    await system?.stop();
    await servers?.close();
  });
  return { system: () => system, servers: () => servers };
}
