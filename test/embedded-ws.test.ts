import { embeddedTests } from './per-transport/embedded.js';

embeddedTests('ws');
