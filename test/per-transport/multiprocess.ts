import t from 'tap';
import { readCircusIni, startMultiprocess, type System } from '../helpers/system.js';
import { httpSuite } from '../suites/http.js';
import { operationsSuite, sharedPortTest } from '../suites/operations.js';
import { apiDrainTest, resilienceSuite } from '../suites/resilience.js';
import { websocketSuite } from '../suites/websocket.js';
import { transportEnv, transportSkip, type TransportName } from '../helpers/transports.js';

/** Runs this file's tests with the gateways on `transport` (skipped where it cannot run). */
export function multiprocessTests(transport: TransportName): void {
  const unavailable = transportSkip(transport, 'multiprocess');
  if (unavailable) {
    t.plan(0, unavailable);
    return;
  }
  // Every watcher of circus.ini as its own process, against real PostgreSQL and Redis.
  let system: System;
  t.before(async () => {
    system = await startMultiprocess(transportEnv(transport));
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
}
