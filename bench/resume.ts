/**
 * `npm run bench:resume`: N clients connected through circus.ini's gateways; every gateway
 * process is restarted (SIGTERM, drained, started again) while messages are published; time
 * until every client has reconnected and caught up with nothing lost (the load-test tool's
 * reconnect-storm mode).
 *
 *   npm run bench:resume -- --clients 10000 --runs 3
 */
import { parseArgs } from 'node:util';
import { runLoad } from '../loadtest/run.js';
import { startMultiprocess } from '../test/helpers/system.js';

const { values: args } = parseArgs({ options: { clients: { type: 'string', default: '10000' }, runs: { type: 'string', default: '3' } } });
const CLIENTS = Number(args.clients);
const RUNS = Number(args.runs);

async function main(): Promise<void> {
  const system = await startMultiprocess({ PUSHWIRE_GATEWAY_DRAIN_MS: '0' });
  const rows: string[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      const result = await runLoad({
        api: system.apiUrl, clients: CLIENTS, shape: 'per-client', messages: 500, rate: 0, concurrency: 16, sources: 8, drain: 60, progress: false,
        storm: () => system.restart('gateway', 'SIGTERM'),
      });
      process.stderr.write(`run ${run + 1}: caught up ${result.storm!.secondsAfterCommand.toFixed(2)} s after the restart, lost ${result.lost}, duplicates ${result.duplicates}, reconnects ${result.storm!.reconnects}\n`);
      rows.push(`| ${run + 1} | ${CLIENTS} | ${result.storm!.reconnects} | ${result.storm!.secondsFromStart.toFixed(2)} | ${result.storm!.secondsAfterCommand.toFixed(2)} | ${result.lost} | ${result.duplicates} |`);
    }
  } finally {
    await system.stop();
  }
  process.stdout.write([
    `Every gateway process restarted under load (500 messages published meanwhile), ${CLIENTS} clients, one user each.`,
    '', '| run | clients | reconnects | s from the stop | s after the restart | lost | duplicates |', '|---:|---:|---:|---:|---:|---:|---:|', ...rows, '',
  ].join('\n'));
  process.exit(0);
}

await main();
