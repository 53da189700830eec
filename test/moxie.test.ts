import t from 'tap';
import { startEmbedded } from './helpers/system.js';
import { moxieSuite } from './suites/moxie.js';

// One process: HMAC nonces remembered in-process.
moxieSuite(t, startEmbedded);
