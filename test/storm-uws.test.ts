import { stormTests } from './per-transport/storm.js';

stormTests('uws');
