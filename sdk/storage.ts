/**
 * Where a client keeps the key of the last message it saw, so the next connection (after a
 * reconnect, a page reload or a process restart) resumes right after it.
 */
export interface KeyStore {
  get(): string | null | Promise<string | null>;
  set(key: string): void | Promise<void>;
}

/** Keeps the key in memory only: resumes across reconnects, not across restarts. */
export function memoryKeyStore(initial: string | null = null): KeyStore {
  let key = initial;
  return { get: () => key, set: (next) => { key = next; } };
}

/** Browsers: one localStorage entry per token, so two users of one browser do not mix. */
export function localStorageKeyStore(token: string, storage: Storage = globalThis.localStorage): KeyStore {
  const name = `pushwire:last-key:${token.slice(0, 16)}`;
  return { get: () => storage.getItem(name), set: (key) => storage.setItem(name, key) };
}
