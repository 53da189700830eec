import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { heapCensus, perItem } from '../bench/heap-census.js';

/** Something to count: an object of its own kind, with two fields. */
class CensusMarker {
  constructor(readonly index: number, readonly label: string) {}
}

t.test('a census of two snapshots finds what each of N objects added, by kind', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pushwire-census-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const before = heapCensus(writeHeapSnapshot(join(dir, 'before.heapsnapshot')));
  const kept = Array.from({ length: 5000 }, (_, index) => new CensusMarker(index, 'same'));
  const after = heapCensus(writeHeapSnapshot(join(dir, 'after.heapsnapshot')));
  t.equal(kept.length, 5000);
  const { bytes, kinds } = perItem(before, after, kept.length, 20);
  const marker = kinds.find(({ kind }) => kind === 'CensusMarker');
  t.equal(marker?.count, 1, 'one marker an item');
  t.ok(marker && marker.bytes >= 32 && marker.bytes <= 64, `a marker's own bytes: a header and two fields (${marker?.bytes})`);
  t.ok(bytes >= marker!.bytes, 'the total counts it');
  t.equal(before.get('CensusMarker'), undefined, 'none before');
});
