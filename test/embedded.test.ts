import t from 'tap';
import { startEmbedded, type System } from './helpers/system.js';
import { httpSuite } from './suites/http.js';
import { operationsSuite } from './suites/operations.js';
import { resilienceSuite } from './suites/resilience.js';
import { websocketSuite } from './suites/websocket.js';

let system: System;
t.before(async () => {
  system = await startEmbedded();
});
t.teardown(() => system?.stop());

httpSuite(t, () => system);
websocketSuite(t, () => system);
operationsSuite(t, () => system);
resilienceSuite(t, () => system, 'embedded');
