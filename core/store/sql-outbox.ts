import type { Db } from './db.js';
import type { PushJob, PushOutbox, PushOutcome, PushRecord, Reach } from './outbox.js';
import { DEVICE_COLUMNS, toDevice } from './sql-devices.js';
import type { MessageKind } from '../message.js';

interface MessageRow {
  user_id: number; seq: number; queue: string; ts: number; expires_at: number; kind: MessageKind; replace_id: string | null; body: Record<string, unknown>;
}

const STATUS: Record<PushOutcome['kind'], string> = { sent: 'sent', retry: 'pending', dead: 'failed', failed: 'failed', expired: 'expired' };

export class SqlOutbox implements PushOutbox {
  constructor(private readonly db: Db) {}

  async expandDue(nowMicros: number, limit: number, ackTimeoutMicros: number, reach: (userIds: number[]) => Promise<Reach>): Promise<number> {
    return this.db.transaction(async (tx) => {
      // `ts` is null when the message is gone already: the job records that it expired.
      const due = await tx.query<{ user_id: number; seq: number; ts: number | null }>(
        `SELECT c.user_id, c.seq, m.ts FROM push_checks c LEFT JOIN messages m ON m.user_id = c.user_id AND m.seq = c.seq
         WHERE c.due_at <= $1 ORDER BY c.due_at LIMIT $2 FOR UPDATE OF c SKIP LOCKED`, [nowMicros, limit]);
      if (due.length === 0) return 0;
      const { acked, online } = await reach([...new Set(due.map((check) => check.user_id))]);
      const unacked = (check: (typeof due)[number]) => (acked.get(check.user_id) ?? 0) < check.seq;
      const waits = (check: (typeof due)[number]) => check.ts !== null && online.has(check.user_id) && unacked(check)
        && nowMicros < Number(check.ts) + ackTimeoutMicros;
      const later = due.filter(waits);
      const decided = due.filter((check) => !waits(check));
      const send = decided.filter(unacked);
      const jobs = await tx.query<{ id: number }>(
        `WITH later AS (
           UPDATE push_checks c SET due_at = l.ts + $7 FROM unnest($1::int8[], $2::int8[], $3::int8[]) AS l(user_id, seq, ts)
           WHERE c.user_id = l.user_id AND c.seq = l.seq
         ),
         decided AS (
           DELETE FROM push_checks c USING unnest($4::int8[], $5::int8[]) AS d(user_id, seq)
           WHERE c.user_id = d.user_id AND c.seq = d.seq
         )
         INSERT INTO push_jobs (user_id, seq, device_id, next_attempt_at)
         SELECT s.user_id, s.seq, d.id, $6 FROM unnest($8::int8[], $9::int8[]) AS s(user_id, seq)
         JOIN devices d ON d.user_id = s.user_id AND d.expired_at IS NULL
         ON CONFLICT (user_id, seq, device_id) DO NOTHING
         RETURNING id`,
        [later.map((check) => check.user_id), later.map((check) => check.seq), later.map((check) => check.ts),
          decided.map((check) => check.user_id), decided.map((check) => check.seq), nowMicros, ackTimeoutMicros,
          send.map((check) => check.user_id), send.map((check) => check.seq)]);
      return jobs.length;
    });
  }

  async anyDue(nowMicros: number): Promise<boolean> {
    const [{ due }] = await this.db.query<{ due: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM push_checks WHERE due_at <= $1)
           OR EXISTS (SELECT 1 FROM push_jobs WHERE status = 'pending' AND next_attempt_at <= $1) AS due`, [nowMicros], 'push_any_due');
    return due;
  }

  async claim(nowMicros: number, limit: number, leaseMicros: number): Promise<PushJob[]> {
    const claimed = await this.db.query<{ id: number; user_id: number; seq: number; device_id: number; attempts: number }>(
      `WITH due AS (
         SELECT id FROM push_jobs WHERE status = 'pending' AND next_attempt_at <= $1
         ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED
       )
       UPDATE push_jobs j SET next_attempt_at = $1 + $3, attempts = j.attempts + 1, updated_at = now()
       FROM due WHERE j.id = due.id
       RETURNING j.id, j.user_id, j.seq, j.device_id, j.attempts`, [nowMicros, limit, leaseMicros], 'push_claim');
    if (claimed.length === 0) return [];
    const devices = await this.db.query<Parameters<typeof toDevice>[0]>(
      `SELECT ${DEVICE_COLUMNS} FROM devices WHERE id = ANY($1::int8[])`, [[...new Set(claimed.map((job) => job.device_id))]]);
    const messages = await this.db.query<MessageRow>(
      `SELECT m.user_id, m.seq, q.name AS queue, m.ts, m.expires_at, m.kind, m.replace_id, m.body
       FROM unnest($1::int8[], $2::int8[]) AS c(user_id, seq)
       JOIN messages m ON m.user_id = c.user_id AND m.seq = c.seq JOIN queues q ON q.id = m.queue_id`,
      [claimed.map((job) => job.user_id), claimed.map((job) => job.seq)]);
    const deviceById = new Map(devices.map((row) => [row.id, toDevice(row)]));
    const messageByKey = new Map(messages.map((row) => [`${row.user_id}:${row.seq}`, {
      userId: row.user_id, seq: row.seq, queue: row.queue, micros: row.ts, expiresMicros: row.expires_at,
      kind: row.kind, replaceId: row.replace_id, body: row.body,
    }]));
    return claimed.filter((job) => deviceById.has(job.device_id)).map((job) => ({
      id: job.id, attempt: job.attempts, device: deviceById.get(job.device_id)!, message: messageByKey.get(`${job.user_id}:${job.seq}`) ?? null,
    }));
  }

  async record(outcomes: readonly PushOutcome[], nowMicros: number): Promise<void> {
    if (outcomes.length === 0) return;
    await this.db.transaction(async (tx) => {
      await tx.query(
        `UPDATE push_jobs j SET status = o.status, next_attempt_at = coalesce(o.retry_at, j.next_attempt_at), result = o.result::jsonb, updated_at = now()
         FROM unnest($1::int8[], $2::text[], $3::int8[], $4::text[]) AS o(id, status, retry_at, result) WHERE j.id = o.id`,
        [outcomes.map((o) => o.jobId), outcomes.map((o) => STATUS[o.kind]), outcomes.map((o) => o.retryAtMicros ?? null),
          outcomes.map((o) => JSON.stringify({ outcome: o.kind, reason: o.reason ?? null, statusCode: o.statusCode ?? null, trimmed: o.trimmed ?? false, canonicalToken: o.canonicalToken ?? null }))]);
      const dead = outcomes.filter((o) => o.kind === 'dead');
      if (dead.length) {
        await tx.query(
          `UPDATE devices d SET expired_at = to_timestamp($3::float8 / 1000000), expired_reason = o.reason
           FROM unnest($1::int8[], $2::text[]) AS o(id, reason) WHERE d.id = o.id AND d.expired_at IS NULL`,
          [dead.map((o) => o.deviceId), dead.map((o) => o.reason ?? 'unregistered'), nowMicros]);
      }
      for (const outcome of outcomes.filter((o) => o.canonicalToken)) {
        // The canonical id may already be registered (the app re-registered): then this row is a duplicate.
        const [taken] = await tx.query<{ id: number }>(
          `SELECT other.id FROM devices d JOIN devices other ON other.app_id = d.app_id AND other.platform = d.platform AND other.token = $2
           WHERE d.id = $1`, [outcome.deviceId, outcome.canonicalToken]);
        if (taken) await tx.query(`UPDATE devices SET expired_at = now(), expired_reason = 'replaced by canonical id' WHERE id = $1 AND id <> $2`, [outcome.deviceId, taken.id]);
        else await tx.query('UPDATE devices SET token = $2 WHERE id = $1', [outcome.deviceId, outcome.canonicalToken]);
      }
    });
  }

  async results(userId: number, seq: number): Promise<PushRecord[]> {
    const rows = await this.db.query<{ device_id: number; platform: string; status: PushRecord['status']; attempts: number; result: Record<string, unknown> | null; updated_at: Date | string }>(
      `SELECT j.device_id, d.platform, j.status, j.attempts, j.result, j.updated_at
       FROM push_jobs j JOIN devices d ON d.id = j.device_id WHERE j.user_id = $1 AND j.seq = $2 ORDER BY j.device_id`, [userId, seq]);
    return rows.map((row) => ({ deviceId: row.device_id, platform: row.platform, status: row.status, attempts: row.attempts, result: row.result, updatedAt: new Date(row.updated_at).toISOString() }));
  }

  async depth(): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(
      `SELECT ((SELECT count(*) FROM push_checks) + (SELECT count(*) FROM push_jobs WHERE status = 'pending'))::int AS n`);
    return row.n;
  }
}
