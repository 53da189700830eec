import DataLoader from 'dataloader';
import type { StoredMessage } from '../core/message.js';
import type { FramePage, FrameReadRequest } from '../core/store/frame-page.js';
import type { RangeRequest, Store } from '../core/store/store.js';
import type { History } from './delivery.js';

/**
 * Lets at most `limit` batches run at once. A batch is sent at the next turn of the event loop
 * while there is room; otherwise it keeps gathering until one of the running ones finishes, so a
 * busy store (embedded SQLite runs one call at a time) gets fewer,
 * larger statements instead of a queue of small ones.
 */
function gate(limit: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  const done = () => {
    running--;
    waiting.shift()?.();
  };
  return {
    schedule: (dispatch: () => void) => (running < limit ? setImmediate(dispatch) : waiting.push(dispatch)),
    run: <T>(work: () => Promise<T>): Promise<T> => {
      running++;
      return work().finally(done);
    },
  };
}

/**
 * The store reads a connection makes while it authenticates, batched: whatever connections
 * ask meanwhile (a reconnect storm: thousands) goes out as one query.
 */
export function batchedStore(store: Store) {
  const keyed = <K, V>(lookup: (keys: readonly K[]) => Promise<Map<K, V>>, maxBatchSize: number) => {
    const { schedule, run } = gate(store.writers);
    return new DataLoader<K, V | undefined>((keys) => run(async () => {
      const found = await lookup(keys);
      return keys.map((key) => found.get(key));
    }), { cache: false, maxBatchSize, batchScheduleFn: schedule });
  };
  const users = keyed((tokens: readonly string[]) => store.usersByTokens(tokens), 1000);
  const lastSeqs = keyed((userIds: readonly number[]) => store.lastSeqs(userIds), 1000);
  // Catch-up pages can be large: fewer per query.
  const readGate = gate(store.writers);
  const reads = new DataLoader<FrameReadRequest, FramePage>((requests) => readGate.run(() => store.readFrames(requests)),
    { cache: false, maxBatchSize: 100, batchScheduleFn: readGate.schedule });
  // A bus outage sends every connection that missed something to repair at once: one query per 100.
  const ranges = new DataLoader<RangeRequest, StoredMessage[]>((requests) => readGate.run(() => store.ranges(requests)),
    { cache: false, maxBatchSize: 100, batchScheduleFn: readGate.schedule });
  const history: History = { readFrames: (request) => reads.load(request), range: (request) => ranges.load(request) };
  return {
    userByToken: (token: string) => users.load(token),
    lastSeq: (userId: number) => lastSeqs.load(userId),
    /** What connections read their history through. */
    history,
  };
}

/** The store as a gateway reads it, batched. */
export type BatchedStore = ReturnType<typeof batchedStore>;
