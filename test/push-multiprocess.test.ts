import t from 'tap';
import { startMultiprocess } from './helpers/system.js';
import { withPushSystem } from './servers/all.js';
import { pushSuite, pusherCrashTest } from './suites/push.js';

// Every watcher of circus.ini (push worker included) against real PostgreSQL and Redis,
// pushing to the local APNs, Google and Web Push services.
const { system, servers } = withPushSystem(t, startMultiprocess);
t.afterEach((t) => {
  if (!t.passing()) t.comment(system().output().slice(-6000));
});

pushSuite(t, system, servers);
pusherCrashTest(t, system, servers);
