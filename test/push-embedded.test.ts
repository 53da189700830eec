import t from 'tap';
import { startEmbedded } from './helpers/system.js';
import { withPushSystem } from './servers/all.js';
import { pushSuite } from './suites/push.js';

const { system, servers } = withPushSystem(t, startEmbedded);
pushSuite(t, system, servers);
