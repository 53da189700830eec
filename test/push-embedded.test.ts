import t from 'tap';
import { startEmbedded, type System } from './helpers/system.js';
import { startPushServers, type PushServers } from './servers/all.js';
import { pushSuite } from './suites/push.js';

let servers: PushServers;
let system: System;
t.before(async () => {
  servers = await startPushServers();
  system = await startEmbedded(servers.env);
});
t.teardown(async () => {
  await system?.stop();
  await servers?.close();
});

pushSuite(t, () => system, () => servers);
