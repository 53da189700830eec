import { multiprocessTests } from './per-transport/multiprocess.js';

multiprocessTests('uws');
