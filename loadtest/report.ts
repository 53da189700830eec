import Table from 'cli-table3';
import type { Histogram } from 'hdr-histogram-js';

export interface LoadResult {
  shape: string;
  clients: number;
  users: number;
  published: number;
  publishFailures: number;
  expected: number;
  delivered: number;
  lost: number;
  duplicates: number;
  seconds: number;
  deliveriesPerSecond: number;
  publishesPerSecond: number;
  connectMs: { p50: number; p99: number; max: number };
  /** First connections that did not get in at once (refused, closed before hello, silent) and were tried again. */
  connectRetries: number;
  latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number };
  server: { cpuSeconds: number | null; rssBytes: number | null };
  /** Reconnect storm: until every client had reconnected and caught up, from the storm's start and from the end of its command. */
  storm?: { secondsFromStart: number; secondsAfterCommand: number; reconnects: number };
  /** Latency distribution for the HTML report: [upper bound ms, count]. */
  histogram: [number, number][];
}

export const percentiles = (histogram: Histogram, scale: number) => ({
  p50: histogram.getValueAtPercentile(50) / scale,
  p90: histogram.getValueAtPercentile(90) / scale,
  p99: histogram.getValueAtPercentile(99) / scale,
  p999: histogram.getValueAtPercentile(99.9) / scale,
  max: histogram.maxValue / scale,
});

const ms = (value: number) => value.toFixed(2);

export function summaryTable(result: LoadResult): string {
  const table = new Table({ head: ['measure', 'value'] });
  table.push(
    ['shape', `${result.shape}: ${result.clients} clients, ${result.users} users`],
    ['published (failed)', `${result.published} (${result.publishFailures})`],
    ['delivered / expected', `${result.delivered} / ${result.expected}`],
    ['lost, duplicates', `${result.lost}, ${result.duplicates}`],
    ['deliveries/s', Math.round(result.deliveriesPerSecond)],
    ['publishes/s', Math.round(result.publishesPerSecond)],
    ['connect p50 / p99 / max (ms), retries', `${ms(result.connectMs.p50)} / ${ms(result.connectMs.p99)} / ${ms(result.connectMs.max)}, ${result.connectRetries}`],
    ['publish→deliver p50 / p90 / p99 / p99.9 / max (ms)', [result.latencyMs.p50, result.latencyMs.p90, result.latencyMs.p99, result.latencyMs.p999, result.latencyMs.max].map(ms).join(' / ')],
    ...(result.storm ? [['reconnect storm: caught up after (s), reconnects', `${result.storm.secondsFromStart.toFixed(2)} from the start, ${result.storm.secondsAfterCommand.toFixed(2)} after the command; ${result.storm.reconnects}`]] : []),
    ['server CPU (s), RSS (MiB)', `${result.server.cpuSeconds?.toFixed(2) ?? 'n/a'}, ${result.server.rssBytes === null ? 'n/a' : (result.server.rssBytes / 2 ** 20).toFixed(1)}`],
  );
  return table.toString();
}

/** A self-contained HTML page: the summary and the latency histogram as an SVG bar chart. */
export function htmlReport(result: LoadResult): string {
  const width = 760;
  const height = 260;
  const bars = result.histogram;
  const top = Math.max(1, ...bars.map(([, count]) => count));
  const barWidth = width / Math.max(1, bars.length);
  const rects = bars.map(([bound, count], i) => {
    const h = (count / top) * (height - 30);
    return `<rect x="${(i * barWidth).toFixed(1)}" y="${(height - 20 - h).toFixed(1)}" width="${Math.max(1, barWidth - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="#3867d6"><title>≤ ${bound} ms: ${count}</title></rect>`
      + (i % Math.ceil(bars.length / 10) === 0 ? `<text x="${(i * barWidth).toFixed(1)}" y="${height - 4}" font-size="10">${bound}</text>` : '');
  }).join('');
  const rows = Object.entries({ ...result, histogram: undefined }).filter(([, v]) => v !== undefined)
    .map(([k, v]) => `<tr><th>${k}</th><td>${typeof v === 'object' ? JSON.stringify(v) : v}</td></tr>`).join('');
  return `<!doctype html><meta charset="utf-8"><title>Pushwire load test</title>
<style>body{font:14px system-ui;margin:2rem}table{border-collapse:collapse}th,td{text-align:left;padding:.3rem .8rem;border-bottom:1px solid #ddd}</style>
<h1>Pushwire load test</h1><table>${rows}</table>
<h2>Publish → deliver latency (ms)</h2><svg width="${width}" height="${height}" role="img" aria-label="latency histogram">${rects}</svg>`;
}
