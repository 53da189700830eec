import t from 'tap';
import { readCircusIni, startMultiprocess, type System } from './helpers/system.js';
import { httpSuite } from './suites/http.js';
import { operationsSuite, sharedPortTest } from './suites/operations.js';
import { apiDrainTest, resilienceSuite } from './suites/resilience.js';
import { websocketSuite } from './suites/websocket.js';

// Every watcher of circus.ini as its own process, against real PostgreSQL and Redis.
let system: System;
t.before(async () => {
  system = await startMultiprocess();
});
t.teardown(() => system?.stop());
t.afterEach((t) => {
  if (t.passing()) return;
  t.comment(system.output().slice(-6000));
});

httpSuite(t, () => system);
websocketSuite(t, () => system);
operationsSuite(t, () => system);
const processes = (role: string) => readCircusIni().find((watcher) => watcher.name === role)!.numprocesses;
sharedPortTest(t, () => system, { gateway: processes('gateway'), api: processes('api') });
resilienceSuite(t, () => system, 'multiprocess');
apiDrainTest(t, () => system);
