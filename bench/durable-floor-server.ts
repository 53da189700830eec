/**
 * The durable floor: the least a per-user durable server built from Pushwire's parts must do,
 * written as plainly as it can be. Bare uWebSockets.js with a topic per client (as
 * `baseline-server.ts uws-topics`), and each `POST /publish/N` stored in PostgreSQL before it is
 * delivered and acknowledged: one row per message in a table keyed by (client, seq), the posts of
 * an event-loop turn in one transaction (synchronous_commit on, as Pushwire's), one transaction in
 * flight while the next turn's posts wait. No users, queues, presence, bus, validation or
 * catch-up: what it costs is what durability alone costs on this machine, so the gap between it
 * and bare uWS is the part of the per-user target no broker on PostgreSQL can close.
 *   DATABASE_URL=postgres://… node dist/bench/durable-floor-server.js
 * Prints `listening <port>` when ready.
 */
import pg from 'pg';
import { frame, listen, readBody, topicPerClientApp } from './uws-parts.js';

interface Pending {
  client: number;
  body: string;
  done(key: string | null): void;
}

/**
 * One connection, one transaction in flight. The fastest here: with 2 or 3 connections (the
 * waiting posts split between them) it made 15,500 msg/s against 18,100, the same CPU spread thinner.
 */
const database = new pg.Client({ connectionString: process.env.DATABASE_URL });
await database.connect();
await database.query('CREATE TABLE floor_messages (client integer NOT NULL, seq bigserial, body jsonb NOT NULL, PRIMARY KEY (client, seq))');

let waiting: Pending[] = [];
let writing = false;

/** Stores what waits in one INSERT (one transaction), then what arrived meanwhile, until nothing waits. */
async function write(): Promise<void> {
  while (waiting.length > 0) {
    const batch = waiting;
    waiting = [];
    try {
      const { rows } = await database.query<{ seq: string }>('INSERT INTO floor_messages (client, body) SELECT * FROM unnest($1::integer[], $2::jsonb[]) RETURNING seq',
        [batch.map((item) => item.client), batch.map((item) => item.body)]);
      batch.forEach((item, index) => item.done(rows[index].seq));
    } catch {
      for (const item of batch) item.done(null);
    }
  }
  writing = false;
}

function store(item: Pending): void {
  waiting.push(item);
  if (writing) return;
  writing = true;
  // The rest of this turn's posts join the batch.
  setImmediate(() => void write());
}

const app = topicPerClientApp()
  .post('/publish/:id', (res, req) => {
    const client = Number(req.getParameter(0));
    readBody(res, (body, isAborted) => store({
      client,
      body,
      done: (key) => {
        if (key !== null) app.publish(`c${client}`, frame(body, key), false);
        if (!isAborted()) res.cork(() => (key === null ? res.writeStatus('503 Service Unavailable').end('{}') : res.end(`{"key":"${key}"}`)));
      },
    }));
  });
listen(app);
