import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ROOT, startEmbedded, type System } from './helpers/system.js';
import type { LoadResult } from '../loadtest/report.js';

// The load-test tool, run as a user would, against a running system.
let system: System;
t.before(async () => {
  system = await startEmbedded();
});
t.teardown(() => system?.stop());

const run = (...args: string[]) => spawnSync(process.execPath, ['dist/loadtest/main.js', '--api', system.apiUrl, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });

for (const shape of ['hot', 'per-client', 'mixed']) {
  t.test(`${shape}: every expected delivery, no loss, no duplicate, measured`, async (t) => {
    const html = join(mkdtempSync(join(tmpdir(), 'pushwire-load-')), 'report.html');
    const result = run('--clients', '60', '--shape', shape, '--messages', '40', '--sources', '3', '--json', '--html', html);
    t.equal(result.status, 0, result.stderr.slice(-500));
    const report = JSON.parse(result.stdout) as LoadResult;
    t.equal(report.published, 40);
    t.ok(report.expected > 0);
    t.equal(report.delivered, report.expected);
    t.same([report.lost, report.duplicates], [0, 0]);
    t.ok(report.latencyMs.p99 > 0 && report.latencyMs.p50 <= report.latencyMs.p99);
    t.ok(report.connectMs.max > 0);
    t.equal(report.connectRetries, 0, 'every client in at the first attempt');
    t.ok((report.server.rssBytes ?? 0) > 0, 'server memory read from /metrics');
    t.match(readFileSync(html, 'utf8'), /<svg[^>]*aria-label="latency histogram">.*<rect/s);
  });
}

t.test('--batch publishes through POST /publish: every message stored and delivered once', async (t) => {
  const result = run('--clients', '50', '--messages', '230', '--batch', '100', '--json');
  t.equal(result.status, 0, result.stderr.slice(-500));
  const report = JSON.parse(result.stdout) as LoadResult;
  t.same([report.published, report.publishFailures], [230, 0]);
  t.same([report.expected, report.delivered, report.lost, report.duplicates], [230, 230, 0, 0]);
});

t.test('a fixed rate is kept', async (t) => {
  const started = Date.now();
  const result = run('--clients', '10', '--messages', '20', '--rate', '20', '--json');
  t.equal(result.status, 0);
  t.ok(Date.now() - started >= 950, '20 messages at 20/s take about a second');
  t.ok(JSON.parse(result.stdout).publishesPerSecond <= 25);
});

t.test('--storm-command runs once the clients are connected and the storm is timed', async (t) => {
  const result = run('--clients', '20', '--messages', '10', '--json', '--storm-command', 'true');
  t.equal(result.status, 0);
  const report = JSON.parse(result.stdout);
  t.ok(report.storm.secondsFromStart >= report.storm.secondsAfterCommand);
  t.equal(report.storm.reconnects, 0, 'a storm that kills nothing reconnects nobody');
});

t.test('a client the gateway will not let in fails the run with the reason once --connect-timeout has passed: no hang', async (t) => {
  // Five sockets an address: the sixth to eighth are refused (429) for as long as the first five stay.
  const capped = await startEmbedded({ PUSHWIRE_RATE_LIMIT_EXEMPT: '', PUSHWIRE_MAX_CONNECTIONS_PER_ADDRESS: '5' });
  t.teardown(() => capped.stop());
  const started = Date.now();
  const result = spawnSync(process.execPath, ['dist/loadtest/main.js', '--api', capped.apiUrl, '--clients', '8', '--sources', '1', '--messages', '1', '--connect-timeout', '3', '--json'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  t.equal(result.status, 2, result.stderr.slice(-500));
  t.match(result.stderr, /pushwire-loadtest: ws:\/\/[^ ]+: Unexpected server response: 429/);
  t.ok(Date.now() - started >= 3000, 'tried again until the deadline');
});

t.test('bad arguments are refused with a message', async (t) => {
  const result = run('--shape', 'square');
  t.equal(result.status, 1);
  t.match(result.stderr, /'square' is invalid\. Allowed choices are hot, per-client, mixed/);
  t.equal(run('--clients', '-5').status, 1, 'commander refuses a negative count');
  const none = run('--concurrency', '0');
  t.equal(none.status, 1, 'and no publishers at all');
  t.match(none.stderr, /a whole number ≥ 1/);
});
