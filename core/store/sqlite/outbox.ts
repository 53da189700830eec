import type { MessageKind } from '../../message.js';
import type { PushJob, PushOutbox, PushOutcome, PushRecord, Reach } from '../outbox.js';
import { isoNow, type Sqlite } from './db.js';
import { DEVICE_COLUMNS, toDevice, type DeviceRow } from './devices.js';
import { expandInHalves, type DueCheck } from './shared.js';

interface MessageRow { queue: string; ts: number; expires_at: number; kind: MessageKind; replace_id: string | null; body: string }

const STATUS: Record<PushOutcome['kind'], string> = { sent: 'sent', retry: 'pending', dead: 'failed', failed: 'failed', expired: 'expired' };

/**
 * The outbox on embedded SQLite. Its one thread runs each call to its end, so a claim needs no
 * SKIP LOCKED: a job claimed is leased (its next attempt moved past the lease) before any other
 * claim can read it.
 */
export class SqliteOutbox implements PushOutbox {
  constructor(private readonly sqlite: Sqlite) {}

  async expandDue(nowMicros: number, limit: number, ackTimeoutMicros: number, reach: (userIds: number[]) => Promise<Reach>): Promise<number> {
    return expandInHalves(this, nowMicros, limit, ackTimeoutMicros, reach);
  }

  async anyDue(nowMicros: number): Promise<boolean> {
    return this.sqlite.get<{ due: number }>(
      `SELECT EXISTS (SELECT 1 FROM push_checks WHERE due_at <= ?)
           OR EXISTS (SELECT 1 FROM push_jobs WHERE status = 'pending' AND next_attempt_at <= ?) AS due`, nowMicros, nowMicros)!.due === 1;
  }

  /** expandDue's first half: the due checks, oldest first. */
  dueChecks(nowMicros: number, limit: number): DueCheck[] {
    return this.sqlite.all<DueCheck>(
      `SELECT c.user_id, c.seq, m.ts FROM push_checks c LEFT JOIN messages m ON m.user_id = c.user_id AND m.seq = c.seq
       WHERE c.due_at <= ? ORDER BY c.due_at LIMIT ?`, nowMicros, limit);
  }

  /**
   * expandDue's second half, once presence answered: a check waits while its user is online and
   * has not acknowledged it, until the ack timeout; the others become one job per live device
   * unless acknowledged. Returns the jobs created.
   */
  settleChecks(nowMicros: number, ackTimeoutMicros: number, due: readonly DueCheck[], { acked, online }: Reach): number {
    return this.sqlite.transaction(() => {
      let jobs = 0;
      const now = isoNow();
      for (const check of due) {
        const unacked = (acked.get(check.user_id) ?? 0) < check.seq;
        if (check.ts !== null && online.has(check.user_id) && unacked && nowMicros < check.ts + ackTimeoutMicros) {
          this.sqlite.run('UPDATE push_checks SET due_at = ? WHERE user_id = ? AND seq = ?', check.ts + ackTimeoutMicros, check.user_id, check.seq);
          continue;
        }
        // Gone already when another expansion settled it first: nothing to send twice.
        if (this.sqlite.run('DELETE FROM push_checks WHERE user_id = ? AND seq = ?', check.user_id, check.seq).changes === 0 || !unacked) continue;
        jobs += this.sqlite.run(
          `INSERT INTO push_jobs (user_id, seq, device_id, next_attempt_at, created_at, updated_at)
           SELECT ?, ?, id, ?, ?, ? FROM devices WHERE user_id = ? AND expired_at IS NULL
           ON CONFLICT (user_id, seq, device_id) DO NOTHING`,
          check.user_id, check.seq, nowMicros, now, now, check.user_id).changes;
      }
      return jobs;
    });
  }

  async claim(nowMicros: number, limit: number, leaseMicros: number): Promise<PushJob[]> {
    return this.sqlite.transaction(() => {
      const claimed = this.sqlite.all<{ id: number; user_id: number; seq: number; device_id: number; attempts: number }>(
        `UPDATE push_jobs SET next_attempt_at = ?, attempts = attempts + 1, updated_at = ?
         WHERE id IN (SELECT id FROM push_jobs WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?)
         RETURNING id, user_id, seq, device_id, attempts`, nowMicros + leaseMicros, isoNow(), nowMicros, limit);
      const jobs: PushJob[] = [];
      for (const job of claimed.sort((a, b) => a.id - b.id)) {
        const device = this.sqlite.get<DeviceRow>(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE id = ?`, job.device_id);
        if (!device) continue;
        const message = this.sqlite.get<MessageRow>(
          `SELECT q.name AS queue, m.ts, m.expires_at, m.kind, m.replace_id, m.body
           FROM messages m JOIN queues q ON q.id = m.queue_id WHERE m.user_id = ? AND m.seq = ?`, job.user_id, job.seq);
        jobs.push({
          id: job.id, attempt: job.attempts, device: toDevice(device),
          message: message ? {
            userId: job.user_id, seq: job.seq, queue: message.queue, micros: message.ts, expiresMicros: message.expires_at,
            kind: message.kind, replaceId: message.replace_id, body: JSON.parse(message.body) as Record<string, unknown>,
          } : null,
        });
      }
      return jobs;
    });
  }

  async record(outcomes: readonly PushOutcome[], nowMicros: number): Promise<void> {
    this.sqlite.transaction(() => {
      const now = isoNow();
      for (const o of outcomes) {
        const result = JSON.stringify({ outcome: o.kind, reason: o.reason ?? null, statusCode: o.statusCode ?? null, trimmed: o.trimmed ?? false, canonicalToken: o.canonicalToken ?? null });
        this.sqlite.run('UPDATE push_jobs SET status = ?, next_attempt_at = coalesce(?, next_attempt_at), result = ?, updated_at = ? WHERE id = ?',
          STATUS[o.kind], o.retryAtMicros ?? null, result, now, o.jobId);
        if (o.kind === 'dead') {
          this.sqlite.run('UPDATE devices SET expired_at = ?, expired_reason = ? WHERE id = ? AND expired_at IS NULL',
            new Date(nowMicros / 1000).toISOString(), o.reason ?? 'unregistered', o.deviceId);
        }
        if (o.canonicalToken) {
          // The canonical id may already be registered (the app re-registered): then this row is a duplicate.
          const taken = this.sqlite.get<{ id: number }>(
            `SELECT other.id FROM devices d JOIN devices other ON other.app_id = d.app_id AND other.platform = d.platform AND other.token = ?
             WHERE d.id = ?`, o.canonicalToken, o.deviceId);
          if (taken) this.sqlite.run(`UPDATE devices SET expired_at = ?, expired_reason = 'replaced by canonical id' WHERE id = ? AND id <> ?`, now, o.deviceId, taken.id);
          else this.sqlite.run('UPDATE devices SET token = ? WHERE id = ?', o.canonicalToken, o.deviceId);
        }
      }
    });
  }

  async results(userId: number, seq: number): Promise<PushRecord[]> {
    const rows = this.sqlite.all<{ device_id: number; platform: string; status: PushRecord['status']; attempts: number; result: string | null; updated_at: string }>(
      `SELECT j.device_id, d.platform, j.status, j.attempts, j.result, j.updated_at
       FROM push_jobs j JOIN devices d ON d.id = j.device_id WHERE j.user_id = ? AND j.seq = ? ORDER BY j.device_id`, userId, seq);
    return rows.map((row) => ({
      deviceId: row.device_id, platform: row.platform, status: row.status, attempts: row.attempts,
      result: row.result === null ? null : (JSON.parse(row.result) as Record<string, unknown>), updatedAt: row.updated_at,
    }));
  }

  async depth(): Promise<number> {
    return this.sqlite.get<{ n: number }>(
      `SELECT (SELECT count(*) FROM push_checks) + (SELECT count(*) FROM push_jobs WHERE status = 'pending') AS n`)!.n;
  }
}
