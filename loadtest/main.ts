#!/usr/bin/env node
/**
 * pushwire-loadtest: websocket clients against a running Pushwire (`npm start`, or any
 * deployment), HTTP publishers at a fixed or maximal rate, and the measures that matter:
 * connect time, deliveries/s, publish→deliver latency (HDR histogram), losses and duplicates
 * (must be 0), server CPU and RSS.
 *
 *   npm run loadtest -- --clients 5000 --shape hot --messages 200 --html report.html
 */
import { exec } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { Command, Option } from 'commander';
import { positive, whole } from './args.js';
import { htmlReport, summaryTable } from './report.js';
import { runLoad, type LoadOptions } from './run.js';

const options = new Command()
  .name('pushwire-loadtest')
  .description('Load-test a running Pushwire through its public HTTP and websocket APIs.')
  .option('--api <url>', 'the HTTP API base URL', 'http://127.0.0.1:5001')
  .option('--clients <n>', 'websocket clients', positive, 1000)
  .addOption(new Option('--shape <shape>', 'hot (one user, every client), per-client (a user each) or mixed (half and half)').choices(['hot', 'per-client', 'mixed']).default('per-client'))
  .option('--messages <n>', 'messages to publish', positive, 1000)
  .option('--rate <n>', 'publishes per second; 0 = as fast as the publishers go', whole, 0)
  .option('--concurrency <n>', 'publish requests in flight', positive, 32)
  .option('--batch <n>', 'messages per publish request: 1 posts to each queue URL, more posts batches to POST /publish', positive, 1)
  .option('--sources <n>', 'loopback source addresses to spread clients over (64k ports each)', positive, 4)
  .option('--drain <seconds>', 'how long to wait for the last deliveries', whole, 15)
  .option('--connect-timeout <seconds>', 'how long a client keeps retrying to get in (refused, or closed before hello) before the run fails', positive, 60)
  .option('--json', 'print the result as JSON instead of a table')
  .option('--html <file>', 'also write an HTML report with the latency histogram')
  .option('--storm-command <command>', 'reconnect storm: once every client is connected, run this (e.g. kill or drain a gateway), publish meanwhile, and time until every client has reconnected and caught up')
  .parse()
  .opts<{ api: string; clients: number; shape: LoadOptions['shape']; messages: number; rate: number; concurrency: number; batch: number; sources: number; drain: number; connectTimeout: number; json?: boolean; html?: string; stormCommand?: string }>();

runLoad({
  ...options,
  progress: !options.json,
  storm: options.stormCommand ? async () => void (await promisify(exec)(options.stormCommand!)) : undefined,
}).then((result) => {
  process.stdout.write(options.json ? `${JSON.stringify({ ...result, histogram: undefined })}\n` : `${summaryTable(result)}\n`);
  if (options.html) writeFileSync(options.html, htmlReport(result));
  process.exit(result.lost === 0 && result.duplicates === 0 ? 0 : 1);
}, (error: unknown) => {
  process.stderr.write(`pushwire-loadtest: ${(error as Error).message}\n`);
  process.exit(2);
});
