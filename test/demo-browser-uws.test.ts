import { demoBrowserTests } from './per-transport/demo-browser.js';

demoBrowserTests('uws');
