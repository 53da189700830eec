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
  `CREATE TABLE applications (
     id          text PRIMARY KEY,
     -- provider credentials by platform: {apns, fcm, gcm, webpush}; never returned by any route
     credentials jsonb NOT NULL DEFAULT '{}',
     created_at  timestamptz NOT NULL DEFAULT now(),
     updated_at  timestamptz NOT NULL DEFAULT now()
   );
   CREATE TABLE settings (
     name  text PRIMARY KEY,
     value jsonb NOT NULL
   );
   CREATE TABLE devices (
     id              bigserial PRIMARY KEY,
     user_id         bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
     app_id          text NOT NULL,
     platform        text NOT NULL CHECK (platform IN ('apns', 'fcm', 'gcm', 'webpush')),
     -- APNS device token, FCM/GCM registration id, or Web Push endpoint
     token           text NOT NULL,
     keys            jsonb,
     expiration_time bigint,
     created_at      timestamptz NOT NULL DEFAULT now(),
     -- set when the provider declares the token dead
     expired_at      timestamptz,
     expired_reason  text,
     UNIQUE (app_id, platform, token)
   );
   CREATE INDEX devices_by_user ON devices (user_id) WHERE expired_at IS NULL;
   CREATE INDEX devices_expired ON devices (app_id, expired_at) WHERE expired_at IS NOT NULL;
   -- a message to a user with devices, to push unless acknowledged live by due_at (µs)
   CREATE TABLE push_checks (
     user_id bigint NOT NULL,
     seq     bigint NOT NULL,
     due_at  bigint NOT NULL,
     PRIMARY KEY (user_id, seq)
   );
   CREATE INDEX push_checks_due ON push_checks (due_at);
   -- the outbox: one row per message x device, so a device gets a message at most once
   CREATE TABLE push_jobs (
     id              bigserial PRIMARY KEY,
     user_id         bigint NOT NULL,
     seq             bigint NOT NULL,
     device_id       bigint NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
     status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'expired')),
     attempts        int NOT NULL DEFAULT 0,
     next_attempt_at bigint NOT NULL,
     result          jsonb,
     created_at      timestamptz NOT NULL DEFAULT now(),
     updated_at      timestamptz NOT NULL DEFAULT now(),
     UNIQUE (user_id, seq, device_id)
   );
   CREATE INDEX push_jobs_due ON push_jobs (next_attempt_at) WHERE status = 'pending';`,
  `-- tokens a provider declared dead that no user registered (sent to directly by the compatibility APIs)
   CREATE TABLE dead_tokens (
     app_id     text NOT NULL,
     platform   text NOT NULL,
     token      text NOT NULL,
     reason     text NOT NULL,
     expired_at timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (app_id, platform, token)
   );`,
  `-- Moxie notifications (the Moxie-compatible API): alerts with follow-ups
   CREATE TABLE moxie_notifications (
     uuid       text PRIMARY KEY,
     message    text NOT NULL,
     starts_at  timestamptz NOT NULL,
     expires_at timestamptz NOT NULL,
     url        text,
     label      text,
     created_at timestamptz NOT NULL DEFAULT now()
   );
   CREATE INDEX moxie_notifications_ongoing ON moxie_notifications (expires_at);
   CREATE TABLE moxie_followups (
     notification text NOT NULL REFERENCES moxie_notifications(uuid) ON DELETE CASCADE,
     id           int NOT NULL,
     message      text NOT NULL,
     at           timestamptz NOT NULL,
     PRIMARY KEY (notification, id)
   );`,
  `-- A foreign-key check is a query per inserted row (half of what a stored message cost in
   -- PGlite). The append checks each queue's owner itself, holding the queue row (FOR KEY SHARE)
   -- as the check did, and deleting a queue deletes its messages; users are never deleted.
   ALTER TABLE messages DROP CONSTRAINT messages_user_id_fkey, DROP CONSTRAINT messages_queue_id_fkey;`,
  `-- When a user was last active (microseconds): idle users holding nothing but their own queue
   -- expire (PUSHWIRE_IDLE_TOKEN_TTL). Users from before count as active now.
   ALTER TABLE users ADD COLUMN last_active bigint NOT NULL DEFAULT (extract(epoch from now()) * 1000000)::bigint;
   CREATE INDEX users_last_active ON users (last_active);`,
  `-- Collapsing a read asks, of each row with a replace_id, whether its group has a newer one:
   -- a probe here instead of sorting every read's rows into groups (rows without a replace_id,
   -- nearly all, cost nothing more than a plain read, and nothing here when stored).
   CREATE INDEX messages_replacing ON messages (user_id, queue_id, kind, replace_id, seq) WHERE replace_id IS NOT NULL;`,
  `-- Reads find a user's rows through the primary key (user_id, seq), by time too (a user's seq
   -- and time orders agree): this index was only written, by every stored message (dropping it
   -- cut the database's CPU per message in batches by 8-16%).
   DROP INDEX IF EXISTS messages_by_user_time;`,
  `-- Every append updates its users' rows (last_seq). On a full page PostgreSQL writes the new row
   -- version to another page and a new entry into each of users' three indexes; with room left on
   -- the page the update stays in it and touches no index (a HOT update): batches of 500 cost
   -- the database 17-18 µs a message instead of 24-26. Applies to pages written from now on.
   ALTER TABLE users SET (fillfactor = 50);`,
  `-- A message's body as the text its publisher's body was serialised to (json keeps it as
   -- written; jsonb parsed it into its own form at every append and printed it again with other
   -- spacing): catch-up frames splice it in as live frames do, and nothing queries inside a body.
   -- Rewrites the table once; retention keeps it to the backlogs.
   ALTER TABLE messages ALTER COLUMN body TYPE json USING body::json;`,
  `-- Every stored message wrote an entry into each index of messages. A queue's messages are
   -- found among its user's (the primary key, user_id then seq: a user has few queues), as reads
   -- already found them: messages_by_queue served only deleting a queue and trimming its backlog.
   -- The expiry sweep reads what is old, and rows arrive in about the order they expire: a BRIN
   -- index (a range of values a few pages of the table) costs an insert nothing while its range is
   -- open, where the B-tree took a descent and a write per message. Both cut the database's CPU
   -- per message by 15% (batches of 10) to 20% (batches of 500), and its WAL by a fifth.
   DROP INDEX IF EXISTS messages_by_queue;
   DROP INDEX IF EXISTS messages_by_expiry;
   CREATE INDEX messages_by_expiry ON messages USING brin (expires_at);`,
];
