import t from 'tap';
import { startMultiprocess, type System } from './helpers/system.js';
import { startPushServers, type PushServers } from './servers/all.js';
import { pushSuite, pusherCrashTest } from './suites/push.js';

// Every watcher of circus.ini (push worker included) against real PostgreSQL and Redis,
// pushing to the local APNs, Google and Web Push services.
let servers: PushServers;
let system: System;
t.before(async () => {
  servers = await startPushServers();
  system = await startMultiprocess(servers.env);
});
t.teardown(async () => {
  await system?.stop();
  await servers?.close();
});
t.afterEach((t) => {
  if (!t.passing()) t.comment(system.output().slice(-6000));
});

pushSuite(t, () => system, () => servers);
pusherCrashTest(t, () => system, () => servers);
