import type { Sqlite } from './db.js';

/**
 * The embedded store's schema: numbered, append-only migrations, the number applied kept in
 * SQLite's `user_version`. The same tables as PostgreSQL's (../migrations.ts); times are
 * microseconds since the epoch (integers) or ISO 8601 text. AUTOINCREMENT where PostgreSQL has
 * bigserial: an id is never given twice, even after its row was deleted (caches key on them).
 */
const migrations: readonly string[] = [
  `CREATE TABLE users (
     id         INTEGER PRIMARY KEY,
     token      TEXT NOT NULL UNIQUE,
     last_seq   INTEGER NOT NULL DEFAULT 0,
     pruned_seq INTEGER NOT NULL DEFAULT 0,
     pruned_ts  INTEGER NOT NULL DEFAULT 0,
     created_at TEXT NOT NULL
   );
   CREATE TABLE queues (
     id         INTEGER PRIMARY KEY AUTOINCREMENT,
     name       TEXT NOT NULL UNIQUE,
     user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
     domain     TEXT,
     read_ts    INTEGER,
     pruned_seq INTEGER NOT NULL DEFAULT 0,
     pruned_ts  INTEGER NOT NULL DEFAULT 0,
     created_at TEXT NOT NULL,
     UNIQUE (user_id, domain)
   );
   CREATE TABLE messages (
     user_id    INTEGER NOT NULL,
     seq        INTEGER NOT NULL,
     queue_id   INTEGER NOT NULL,
     ts         INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     kind       TEXT NOT NULL CHECK (kind IN ('message', 'read', 'marker')),
     replace_id TEXT,
     body       TEXT NOT NULL,
     PRIMARY KEY (user_id, seq)
   ) WITHOUT ROWID;
   CREATE INDEX messages_by_queue ON messages (queue_id, seq);
   CREATE INDEX messages_by_user_time ON messages (user_id, ts);
   CREATE INDEX messages_by_expiry ON messages (expires_at);
   CREATE TABLE applications (
     id          TEXT PRIMARY KEY,
     credentials TEXT NOT NULL DEFAULT '{}',
     created_at  TEXT NOT NULL,
     updated_at  TEXT NOT NULL
   );
   CREATE TABLE settings (
     name  TEXT PRIMARY KEY,
     value TEXT NOT NULL
   );
   CREATE TABLE devices (
     id              INTEGER PRIMARY KEY AUTOINCREMENT,
     user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
     app_id          TEXT NOT NULL,
     platform        TEXT NOT NULL CHECK (platform IN ('apns', 'fcm', 'gcm', 'webpush')),
     token           TEXT NOT NULL,
     keys            TEXT,
     expiration_time INTEGER,
     created_at      TEXT NOT NULL,
     expired_at      TEXT,
     expired_reason  TEXT,
     UNIQUE (app_id, platform, token)
   );
   CREATE INDEX devices_by_user ON devices (user_id) WHERE expired_at IS NULL;
   CREATE INDEX devices_expired ON devices (app_id, expired_at) WHERE expired_at IS NOT NULL;
   CREATE TABLE push_checks (
     user_id INTEGER NOT NULL,
     seq     INTEGER NOT NULL,
     due_at  INTEGER NOT NULL,
     PRIMARY KEY (user_id, seq)
   ) WITHOUT ROWID;
   CREATE INDEX push_checks_due ON push_checks (due_at);
   CREATE TABLE push_jobs (
     id              INTEGER PRIMARY KEY AUTOINCREMENT,
     user_id         INTEGER NOT NULL,
     seq             INTEGER NOT NULL,
     device_id       INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
     status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'expired')),
     attempts        INTEGER NOT NULL DEFAULT 0,
     next_attempt_at INTEGER NOT NULL,
     result          TEXT,
     created_at      TEXT NOT NULL,
     updated_at      TEXT NOT NULL,
     UNIQUE (user_id, seq, device_id)
   );
   CREATE INDEX push_jobs_due ON push_jobs (next_attempt_at) WHERE status = 'pending';
   CREATE TABLE dead_tokens (
     app_id     TEXT NOT NULL,
     platform   TEXT NOT NULL,
     token      TEXT NOT NULL,
     reason     TEXT NOT NULL,
     expired_at TEXT NOT NULL,
     PRIMARY KEY (app_id, platform, token)
   );
   CREATE TABLE moxie_notifications (
     uuid       TEXT PRIMARY KEY,
     message    TEXT NOT NULL,
     starts_at  TEXT NOT NULL,
     expires_at TEXT NOT NULL,
     url        TEXT,
     label      TEXT,
     created_at TEXT NOT NULL
   );
   CREATE INDEX moxie_notifications_ongoing ON moxie_notifications (expires_at);
   CREATE TABLE moxie_followups (
     notification TEXT NOT NULL REFERENCES moxie_notifications(uuid) ON DELETE CASCADE,
     id           INTEGER NOT NULL,
     message      TEXT NOT NULL,
     at           TEXT NOT NULL,
     PRIMARY KEY (notification, id)
   );`,
  // Collapsing a read asks, of each row with a replace_id, whether its group has a newer one.
  `CREATE INDEX messages_replacing ON messages (user_id, queue_id, kind, replace_id, seq) WHERE replace_id IS NOT NULL;`,
  // When a user was last active (microseconds): idle users holding nothing but their own queue
  // expire. Users from before count as active now.
  `ALTER TABLE users ADD COLUMN last_active INTEGER NOT NULL DEFAULT 0;
   UPDATE users SET last_active = CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER);
   CREATE INDEX users_last_active ON users (last_active);`,
  // Every append wrote a page of each of these two indexes for each of its users (a user's rows
  // are far apart in both), a third of an append's CPU under one publish per user. What they
  // served, a queue's messages and a time-based `since`, is a filter over one user's rows, which
  // their key (user_id, seq) keeps together and retention bounds: the reads ask by user_id first.
  `DROP INDEX messages_by_queue;
   DROP INDEX messages_by_user_time;`,
  // Messages in arrival order, found through (user_id, seq). Clustered on (user_id, seq), every
  // message of a commit went into its own user's page, far from the others, and a full one split:
  // ~3 pages written per message. In arrival order a commit's messages share the last page or two
  // and each adds an index entry (a tenth of a row's size) to its user's index page: a fifth less
  // CPU per append. A catch-up reads a user's rows through the index, from pages the cache holds.
  `CREATE TABLE messages_in_arrival_order (
     user_id    INTEGER NOT NULL,
     seq        INTEGER NOT NULL,
     queue_id   INTEGER NOT NULL,
     ts         INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     kind       TEXT NOT NULL CHECK (kind IN ('message', 'read', 'marker')),
     replace_id TEXT,
     body       TEXT NOT NULL
   );
   INSERT INTO messages_in_arrival_order SELECT user_id, seq, queue_id, ts, expires_at, kind, replace_id, body FROM messages ORDER BY ts, user_id, seq;
   DROP TABLE messages;
   ALTER TABLE messages_in_arrival_order RENAME TO messages;
   CREATE UNIQUE INDEX messages_key ON messages (user_id, seq);
   CREATE INDEX messages_by_expiry ON messages (expires_at);
   CREATE INDEX messages_replacing ON messages (user_id, queue_id, kind, replace_id, seq) WHERE replace_id IS NOT NULL;`,
];

/**
 * Brings the schema up to date, or to version `upTo` (what an earlier Pushwire made: how an
 * upgrade is tested); a database from a newer Pushwire is refused, not damaged.
 */
export function migrate(sqlite: Sqlite, upTo = migrations.length): void {
  sqlite.transaction(() => {
    const version = sqlite.db.pragma('user_version', { simple: true }) as number;
    if (version > migrations.length) throw new Error(`the database's schema (${version}) is newer than this Pushwire's (${migrations.length})`);
    for (let index = version; index < upTo; index++) sqlite.db.exec(migrations[index]);
    sqlite.db.pragma(`user_version = ${Math.max(version, upTo)}`);
  });
}
