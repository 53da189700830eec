import t from 'tap';
import { startMultiprocess } from './helpers/system.js';
import { pushletSuite } from './suites/pushlet.js';

// circus.ini's processes: applications in PostgreSQL, shared by every api and pusher process.
pushletSuite(t, startMultiprocess);
