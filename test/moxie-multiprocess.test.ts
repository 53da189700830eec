import t from 'tap';
import { startMultiprocess } from './helpers/system.js';
import { moxieSuite } from './suites/moxie.js';

// circus.ini's processes: HMAC nonces remembered in Redis, shared by every api process.
moxieSuite(t, startMultiprocess);
