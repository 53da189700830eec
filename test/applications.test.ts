import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../core/config.js';
import { openSqliteStores } from '../core/store/sqlite/remote.js';
import { ProviderRegistry } from '../providers/registry.js';
import { LocalApns } from './servers/apns.js';
import { loadPki } from './servers/pki.js';

const pki = loadPki();

t.test('credentials live in the store per application; the default one comes from configuration', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pushwire-apps-'));
  const { store, applications } = await openSqliteStores(dir);
  t.teardown(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); });
  const apns = await new LocalApns(pki, { keyId: 'OTHERKEY01', teamId: 'OTHERTEAM1', topic: 'com.example.other' }).start();
  t.teardown(() => apns.close());
  await applications.put('other-app', {
    apns: { token: { key: pki.apnsKeyPem, keyId: 'OTHERKEY01', teamId: 'OTHERTEAM1' }, topic: 'com.example.other', production: false },
  });
  const registry = new ProviderRegistry(loadConfig({ PUSHWIRE_APNS_ADDRESS: apns.address }), applications);
  t.teardown(() => registry.close());
  t.equal(await registry.provider('default', 'apns'), null, 'the default application has no APNS credentials configured');
  t.equal(await registry.provider('other-app', 'fcm'), null);
  const provider = await registry.provider('other-app', 'apns');
  t.ok(provider);
  const deliveries = await provider!.send({
    title: 't', collapseId: 'c', envelope: { key: 'k', queue: 'q', timestamp: '1' }, expiresAt: Date.now() / 1000 + 60, priority: 'high',
  }, [{ jobId: 1, deviceId: 1, token: 'ab'.repeat(32), keys: null }]);
  t.match(deliveries, [{ kind: 'sent' }], 'sent with the application\'s own key and topic');
  t.equal(apns.requests[0].headers['apns-topic'], 'com.example.other');
  const vapid = await registry.vapid();
  t.same(await registry.vapid(), vapid, 'VAPID keys generated once and kept');
  t.ok(await registry.provider('default', 'webpush'), 'so the default application always has Web Push');
});
