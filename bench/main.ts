/**
 * `npm run bench`: Pushwire against its baselines in the same run, on this machine. Servers on
 * core 0, the load generator (this process) on core 1. Prints markdown tables of medians.
 *
 *   npm run bench -- [--runs 3] [--section per-user|fan-out] [--only <system name part>] [--help]
 */
import { Option } from 'commander';
import { benchCommand, positive, positiveList, whole } from './args.js';
import { LOAD_CORE, pin } from './cpu.js';
import { fanOutSection } from './fanout.js';
import { perUserSection } from './per-user.js';

const options = benchCommand('bench', 'Pushwire against bare uWebSockets.js, NATS JetStream and Socket.IO, run after one another on this machine; medians as markdown tables.')
  .option('--runs <n>', 'runs of each system; the tables show medians', positive, 3)
  .addOption(new Option('--section <name>', 'only this section (default: both)').choices(['per-user', 'fan-out']))
  .option('--only <part>', 'only the Pushwire systems whose name holds this (the baselines always run)', '')
  .option('--clients <n>', 'per-user: clients, each on its own queue', positive, 1000)
  .option('--seconds <n>', 'per-user: seconds measured per run', positive, 10)
  .option('--warm-up <n>', 'per-user: seconds of load before measuring', whole, 3)
  .option('--concurrency <n>', 'HTTP publishes in flight', positive, 32)
  .option('--bytes <n>', 'per-user: message size', positive, 200)
  .option('--batch-clients <n>', 'per-user batches: connected clients', positive, 10000)
  .option('--batch <n>', 'per-user batches: messages per POST /publish', positive, 500)
  .option('--catchup-clients <n>', 'catch-up: users that connect at once', positive, 1000)
  .option('--catchup-messages <n>', 'catch-up: messages stored for each', positive, 20)
  .option('--fanout-sockets <list>', 'fan-out: sockets of one user, comma-separated sizes', positiveList, [1000, 5000])
  .option('--fanout-messages <n>', 'fan-out: messages per size', positive, 100)
  .parse()
  .opts<{
    runs: number; section?: 'per-user' | 'fan-out'; only: string; clients: number; seconds: number; warmUp: number; concurrency: number; bytes: number;
    batchClients: number; batch: number; catchupClients: number; catchupMessages: number; fanoutSockets: number[]; fanoutMessages: number;
  }>();

pin(process.pid, LOAD_CORE);
process.stdout.write(`Node ${process.version}, ${options.runs} runs each, medians. Servers pinned to core 0, the load generator to core 1 (one process; in the per-user section a fresh one for each run of each system).\n\n`);
if (!options.section || options.section === 'per-user') {
  process.stdout.write(`${await perUserSection({
    runs: options.runs, clients: options.clients, seconds: options.seconds, warmUpSeconds: options.warmUp, concurrency: options.concurrency, bytes: options.bytes,
    batchClients: options.batchClients, batch: options.batch, catchUpClients: options.catchupClients, catchUpMessages: options.catchupMessages,
    only: options.only,
  })}\n\n`);
}
if (!options.section || options.section === 'fan-out') {
  process.stdout.write(`${await fanOutSection({
    runs: options.runs, clients: options.fanoutSockets, fanout: options.fanoutMessages, concurrency: options.concurrency, only: options.only,
  })}\n`);
}
process.exit(0);
