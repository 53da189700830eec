import type { MoxieFields, MoxieNotification, MoxieStore } from '../moxie.js';
import { isoNow, type Sqlite } from './db.js';

interface Row { uuid: string; message: string; starts_at: string; expires_at: string; url: string | null; label: string | null }

export class SqliteMoxie implements MoxieStore {
  constructor(private readonly sqlite: Sqlite) {}

  private toNotification(row: Row): MoxieNotification {
    const followups = this.sqlite.all<{ id: number; message: string; at: string }>(
      'SELECT id, message, at FROM moxie_followups WHERE notification = ? ORDER BY id', row.uuid);
    return {
      uuid: row.uuid, message: row.message, timestamp: new Date(row.starts_at), expires: new Date(row.expires_at), url: row.url, label: row.label,
      followups: followups.map((f) => ({ id: f.id, message: f.message, timestamp: new Date(f.at) })),
    };
  }

  async create(n: Omit<MoxieNotification, 'followups'>): Promise<void> {
    this.sqlite.run('INSERT INTO moxie_notifications (uuid, message, starts_at, expires_at, url, label, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      n.uuid, n.message, n.timestamp.toISOString(), n.expires.toISOString(), n.url, n.label, isoNow());
  }

  async get(uuid: string): Promise<MoxieNotification | null> {
    const row = this.sqlite.get<Row>('SELECT uuid, message, starts_at, expires_at, url, label FROM moxie_notifications WHERE uuid = ?', uuid);
    return row ? this.toNotification(row) : null;
  }

  async list(history: boolean, now: Date): Promise<MoxieNotification[]> {
    const rows = this.sqlite.all<Row>(
      `SELECT uuid, message, starts_at, expires_at, url, label FROM moxie_notifications WHERE ? OR (starts_at <= ? AND expires_at >= ?)
       ORDER BY starts_at DESC, uuid LIMIT 1000`, history ? 1 : 0, now.toISOString(), now.toISOString());
    return rows.map((row) => this.toNotification(row));
  }

  async update(uuid: string, fields: MoxieFields): Promise<boolean> {
    return this.sqlite.run(
      `UPDATE moxie_notifications SET message = coalesce(?, message), starts_at = coalesce(?, starts_at), expires_at = coalesce(?, expires_at),
         url = CASE WHEN ? THEN ? ELSE url END, label = CASE WHEN ? THEN ? ELSE label END
       WHERE uuid = ?`,
      fields.message ?? null, fields.timestamp?.toISOString() ?? null, fields.expires?.toISOString() ?? null,
      'url' in fields ? 1 : 0, fields.url ?? null, 'label' in fields ? 1 : 0, fields.label ?? null, uuid).changes > 0;
  }

  async remove(uuid: string): Promise<boolean> {
    return this.sqlite.run('DELETE FROM moxie_notifications WHERE uuid = ?', uuid).changes > 0;
  }

  async addFollowup(uuid: string, message: string, timestamp: Date): Promise<number | null> {
    return this.sqlite.transaction(() => {
      if (!this.sqlite.get('SELECT 1 FROM moxie_notifications WHERE uuid = ?', uuid)) return null;
      return this.sqlite.get<{ id: number }>(
        `INSERT INTO moxie_followups (notification, id, message, at)
         VALUES (?, (SELECT coalesce(max(id), 0) + 1 FROM moxie_followups WHERE notification = ?), ?, ?) RETURNING id`,
        uuid, uuid, message, timestamp.toISOString())!.id;
    });
  }

  async updateFollowup(uuid: string, id: number, fields: { message?: string; timestamp?: Date }): Promise<boolean> {
    return this.sqlite.run('UPDATE moxie_followups SET message = coalesce(?, message), at = coalesce(?, at) WHERE notification = ? AND id = ?',
      fields.message ?? null, fields.timestamp?.toISOString() ?? null, uuid, id).changes > 0;
  }

  async removeFollowup(uuid: string, id: number): Promise<boolean> {
    return this.sqlite.run('DELETE FROM moxie_followups WHERE notification = ? AND id = ?', uuid, id).changes > 0;
  }
}
