import t from 'tap';
import { httpSuite } from '../suites/http.js';
import { operationsSuite } from '../suites/operations.js';
import { resilienceSuite } from '../suites/resilience.js';
import { websocketSuite } from '../suites/websocket.js';
import { systemFor, type TransportName } from '../helpers/transports.js';

/** Runs this file's tests with the gateways on `transport` (skipped where it cannot run). */
export function embeddedTests(transport: TransportName): void {
  const system = systemFor(t, transport, 'embedded');
  if (!system) return;

  httpSuite(t, system);
  websocketSuite(t, system);
  operationsSuite(t, system);
  resilienceSuite(t, system, 'embedded');
}
