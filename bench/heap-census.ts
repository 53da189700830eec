import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from '../test/helpers/client.js';

/** Live objects of one kind: how many, and their own bytes. */
export interface KindCount {
  count: number;
  bytes: number;
}

/**
 * The live JavaScript of a process, by kind (an object's constructor; arrays, strings, code and
 * V8's internal objects pooled by type), from a V8 heap snapshot. A snapshot is taken after a
 * full collection, so unlike RSS, which V8's heap sizing moves by tens of MiB between runs, it
 * holds only what is reachable: what each connection really keeps.
 */
export function heapCensus(file: string): Map<string, KindCount> {
  const snapshot = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const { node_fields: fields, node_types: [types] } = snapshot.snapshot.meta;
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((field) => fields.indexOf(field));
  const census = new Map<string, KindCount>();
  for (let at = 0; at < snapshot.nodes.length; at += width) {
    const type = types[snapshot.nodes[at + typeAt]];
    const kind = type === 'object' || type === 'hidden' ? snapshot.strings[snapshot.nodes[at + nameAt]].slice(0, 60) : `(${type})`;
    const entry = census.get(kind) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += snapshot.nodes[at + sizeAt];
    census.set(kind, entry);
  }
  return census;
}

/** What `items` added between two censuses, per item: in all, and the largest kinds. */
export function perItem(before: Map<string, KindCount>, after: Map<string, KindCount>, items: number, top: number): { bytes: number; kinds: (KindCount & { kind: string })[] } {
  const kinds = [...after].map(([kind, { count, bytes }]) => ({
    kind, count: (count - (before.get(kind)?.count ?? 0)) / items, bytes: (bytes - (before.get(kind)?.bytes ?? 0)) / items,
  }));
  return {
    bytes: kinds.reduce((sum, { bytes }) => sum + bytes, 0),
    kinds: kinds.sort((a, b) => b.bytes - a.bytes).slice(0, top),
  };
}

/**
 * Asks a process started with `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=DIR` for a
 * snapshot and returns its file once written (its size steady; `answers` resolves once the
 * process serves again, which it cannot while writing).
 */
export async function takeSnapshot(pid: number, dir: string, answers: () => Promise<unknown>): Promise<string> {
  const known = new Set(readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    await sleep(500);
    const made = readdirSync(dir).find((name) => name.endsWith('.heapsnapshot') && !known.has(name));
    if (!made) continue;
    await answers();
    const size = statSync(join(dir, made)).size;
    await sleep(500);
    if (size > 0 && statSync(join(dir, made)).size === size) return join(dir, made);
  }
  throw new Error(`no heap snapshot from process ${pid} within 120 s`);
}
