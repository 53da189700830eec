import type { Db } from '../../core/store/db.js';

/** `db`, telling `watch` of every statement sent through `query`, in a transaction too (text, parameters, and the prepared statement's name if any). */
export function watchedDb(db: Db, watch: (statement: { text: string; params: unknown[]; name?: string }) => void): Db {
  return {
    connections: db.connections,
    query: (text, params = [], name) => {
      watch({ text, params, name });
      return db.query(text, params, name);
    },
    exec: (script) => db.exec(script),
    transaction: (work) => db.transaction((tx) => work(watchedDb(tx, watch))),
    close: () => db.close(),
  };
}
