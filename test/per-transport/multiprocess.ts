import t from 'tap';
import { httpSuite } from '../suites/http.js';
import { operationsSuite, sharedPortTest } from '../suites/operations.js';
import { apiDrainTest, resilienceSuite } from '../suites/resilience.js';
import { websocketSuite } from '../suites/websocket.js';
import { systemFor, type TransportName } from '../helpers/transports.js';

/** Runs this file's tests with the gateways on `transport` (skipped where it cannot run). */
export function multiprocessTests(transport: TransportName): void {
  // Every watcher of circus.ini as its own process, against real PostgreSQL and Redis.
  const system = systemFor(t, transport, 'multiprocess');
  if (!system) return;

  httpSuite(t, system);
  websocketSuite(t, system);
  operationsSuite(t, system);
  sharedPortTest(t, system, { gateway: 2, api: 2 });
  resilienceSuite(t, system, 'multiprocess');
  apiDrainTest(t, system);
}
