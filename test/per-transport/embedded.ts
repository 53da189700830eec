import t from 'tap';
import { startEmbedded, type System } from '../helpers/system.js';
import { httpSuite } from '../suites/http.js';
import { operationsSuite } from '../suites/operations.js';
import { resilienceSuite } from '../suites/resilience.js';
import { websocketSuite } from '../suites/websocket.js';
import { transportEnv, transportSkip, type TransportName } from '../helpers/transports.js';

/** Runs this file's tests with the gateways on `transport` (skipped where it cannot run). */
export function embeddedTests(transport: TransportName): void {
  const unavailable = transportSkip(transport, 'embedded');
  if (unavailable) {
    t.plan(0, unavailable);
    return;
  }
  let system: System;
  t.before(async () => {
    system = await startEmbedded(transportEnv(transport));
  });
  t.teardown(() => system?.stop());

  httpSuite(t, () => system);
  websocketSuite(t, () => system);
  operationsSuite(t, () => system);
  resilienceSuite(t, () => system, 'embedded');
}
