import t from 'tap';
import { startMultiprocess, type System } from './helpers/system.js';
import { httpSuite } from './suites/http.js';
import { operationsSuite } from './suites/operations.js';
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
resilienceSuite(t, () => system, 'multiprocess');
apiDrainTest(t, () => system);
