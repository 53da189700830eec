/**
 * `npm run bench:resume`: N clients connected through two gateway processes on one port
 * (circus.ini runs one; a rolling restart needs another to move to); gateways are restarted
 * while messages are published, and the time until every client has reconnected and caught up
 * with nothing lost is measured (the load-test tool's reconnect-storm mode). Two scenarios: a
 * rolling restart (one gateway process drained and started again; its clients move to the
 * other) and every gateway process at once (nowhere to go until they are back).
 *
 *   npm run bench:resume -- --clients 10000 --runs 3
 */
import { runLoad } from '../loadtest/run.js';
import { gatewayPids, startMultiprocess } from '../test/helpers/system.js';
import { benchCommand, positive } from './args.js';

const args = benchCommand('bench:resume', 'Time until every client has reconnected and caught up after gateways restart, rolling or all at once, while messages are published.')
  .option('--clients <n>', 'connected clients', positive, 10000)
  .option('--runs <n>', 'runs; the table shows medians', positive, 3)
  .parse()
  .opts<{ clients: number; runs: number }>();
const CLIENTS = args.clients;
const RUNS = args.runs;

async function main(): Promise<void> {
  const system = await startMultiprocess({ PUSHWIRE_GATEWAY_DRAIN_MS: '0' }, { gateway: 2 });
  const scenarios = {
    'rolling: one of two gateway processes': async () => {
      const [pid] = await gatewayPids(system.monitorUrl);
      await system.stopProcess('gateway', pid, 'SIGTERM');
      await system.startRole('gateway');
    },
    'every gateway process at once': () => system.restart('gateway', 'SIGTERM'),
  };
  const rows: string[] = [];
  try {
    for (const [name, storm] of Object.entries(scenarios)) {
      for (let run = 0; run < RUNS; run++) {
        const result = await runLoad({
          api: system.apiUrl, clients: CLIENTS, shape: 'per-client', messages: 500, rate: 0, concurrency: 16, sources: 8, drain: 60, progress: false, storm,
        });
        process.stderr.write(`${name}, run ${run + 1}: caught up ${result.storm!.secondsAfterCommand.toFixed(2)} s after the restart, lost ${result.lost}, duplicates ${result.duplicates}, reconnects ${result.storm!.reconnects}\n`);
        rows.push(`| ${name} | ${run + 1} | ${CLIENTS} | ${result.storm!.reconnects} | ${result.storm!.secondsFromStart.toFixed(2)} | ${result.storm!.secondsAfterCommand.toFixed(2)} | ${result.lost} | ${result.duplicates} |`);
      }
    }
  } finally {
    await system.stop();
  }
  process.stdout.write([
    `Gateways restarted under load (SIGTERM, drained, started again; 500 messages published meanwhile), ${CLIENTS} clients, one user each.`,
    '', '| restart | run | clients | reconnects | s from the stop | s after the restart | lost | duplicates |', '|---|---:|---:|---:|---:|---:|---:|---:|', ...rows, '',
  ].join('\n'));
  process.exit(0);
}

await main();
