/**
 * `npm run bench`: Pushwire against its baselines in the same run, on this machine. Servers on
 * core 0, the load generator (this process) on core 1. Prints markdown tables of medians.
 *
 *   npm run bench -- [--runs 3] [--section per-user|fan-out] [--only <system name part>] [--warm-up 3]
 */
import { parseArgs } from 'node:util';
import { LOAD_CORE, pin } from './cpu.js';
import { fanOutSection } from './fanout.js';
import { perUserSection } from './per-user.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    section: { type: 'string', default: '' },
    /** Only Pushwire systems whose name holds this; the baselines always run. */
    only: { type: 'string', default: '' },
    clients: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '10' },
    'warm-up': { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '32' },
    bytes: { type: 'string', default: '200' },
    'batch-clients': { type: 'string', default: '10000' },
    batch: { type: 'string', default: '500' },
    'catchup-clients': { type: 'string', default: '1000' },
    'catchup-messages': { type: 'string', default: '20' },
    'fanout-sockets': { type: 'string', default: '1000,5000' },
    'fanout-messages': { type: 'string', default: '100' },
  },
});
const number = (name: keyof typeof values) => Number(values[name]);

pin(process.pid, LOAD_CORE);
process.stdout.write(`Node ${process.version}, ${number('runs')} runs each, medians. Servers pinned to core 0, the load generator (one process) to core 1.\n\n`);
if (!values.section || values.section === 'per-user') {
  process.stdout.write(`${await perUserSection({
    runs: number('runs'), clients: number('clients'), seconds: number('seconds'), warmUpSeconds: number('warm-up'), concurrency: number('concurrency'), bytes: number('bytes'),
    batchClients: number('batch-clients'), batch: number('batch'), catchUpClients: number('catchup-clients'), catchUpMessages: number('catchup-messages'),
    only: values.only!,
  })}\n\n`);
}
if (!values.section || values.section === 'fan-out') {
  process.stdout.write(`${await fanOutSection({
    runs: number('runs'), clients: values['fanout-sockets']!.split(',').map(Number), fanout: number('fanout-messages'), concurrency: number('concurrency'), only: values.only!,
  })}\n`);
}
process.exit(0);
