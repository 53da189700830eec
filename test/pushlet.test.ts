import t from 'tap';
import { startEmbedded } from './helpers/system.js';
import { pushletSuite } from './suites/pushlet.js';

// One process: applications in the embedded store.
pushletSuite(t, startEmbedded);
