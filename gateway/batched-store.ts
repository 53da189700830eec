import DataLoader from 'dataloader';
import type { ReadRequest, ReadResult, Store } from '../core/store/store.js';
import type { History } from './connection.js';

/**
 * The store reads a connection makes while it authenticates, batched: whatever connections
 * ask within one turn of the event loop (a reconnect storm: thousands) goes out as one query.
 */
export function batchedStore(store: Store) {
  const keyed = <K, V>(lookup: (keys: readonly K[]) => Promise<Map<K, V>>, maxBatchSize: number) =>
    new DataLoader<K, V | undefined>(async (keys) => {
      const found = await lookup(keys);
      return keys.map((key) => found.get(key));
    }, { cache: false, maxBatchSize });
  const users = keyed((tokens: readonly string[]) => store.usersByTokens(tokens), 1000);
  const lastSeqs = keyed((userIds: readonly number[]) => store.lastSeqs(userIds), 1000);
  // Catch-up pages can be large: fewer per query.
  const reads = new DataLoader<ReadRequest, ReadResult>((requests) => store.readMany(requests), { cache: false, maxBatchSize: 100 });
  const history: History = { read: (request) => reads.load(request), range: (...args) => store.range(...args) };
  return {
    userByToken: (token: string) => users.load(token),
    lastSeq: (userId: number) => lastSeqs.load(userId),
    /** What connections read their history through. */
    history,
  };
}
