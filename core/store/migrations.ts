/**
 * Numbered, append-only schema migrations; each runs once, in order, under an advisory lock so
 * that daemons starting together do not race. Times are microseconds since the epoch (int8).
 */
export const migrations: readonly string[] = [
  `CREATE TABLE users (
     id         bigserial PRIMARY KEY,
     token      text NOT NULL UNIQUE,
     -- the user's sequence: every message, read and marker of all their queues, in commit order
     last_seq   bigint NOT NULL DEFAULT 0,
     -- newest seq / time removed by retention, so catch-up can say it is truncated
     pruned_seq bigint NOT NULL DEFAULT 0,
     pruned_ts  bigint NOT NULL DEFAULT 0,
     created_at timestamptz NOT NULL DEFAULT now()
   );
   CREATE TABLE queues (
     id         bigserial PRIMARY KEY,
     name       text NOT NULL UNIQUE,
     user_id    bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
     -- NULL for the user's own queue (the one POST /token/ returns)
     domain     text,
     read_ts    bigint,
     pruned_seq bigint NOT NULL DEFAULT 0,
     pruned_ts  bigint NOT NULL DEFAULT 0,
     created_at timestamptz NOT NULL DEFAULT now(),
     UNIQUE (user_id, domain)
   );
   CREATE TABLE messages (
     user_id    bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
     seq        bigint NOT NULL,
     queue_id   bigint NOT NULL REFERENCES queues(id) ON DELETE CASCADE,
     ts         bigint NOT NULL,
     expires_at bigint NOT NULL,
     kind       text NOT NULL CHECK (kind IN ('message', 'read', 'marker')),
     replace_id text,
     body       jsonb NOT NULL,
     PRIMARY KEY (user_id, seq)
   );
   CREATE INDEX messages_by_queue ON messages (queue_id, seq);
   CREATE INDEX messages_by_user_time ON messages (user_id, ts);
   CREATE INDEX messages_by_expiry ON messages (expires_at);`,
];
