import type { Db } from './db.js';
import type { MoxieFields, MoxieNotification, MoxieStore } from './moxie.js';

interface Row { uuid: string; message: string; starts_at: Date | string; expires_at: Date | string; url: string | null; label: string | null; followups: { id: number; message: string; at: string }[] }

const SELECT = `SELECT n.uuid, n.message, n.starts_at, n.expires_at, n.url, n.label,
  coalesce((SELECT json_agg(json_build_object('id', f.id, 'message', f.message, 'at', f.at) ORDER BY f.id)
            FROM moxie_followups f WHERE f.notification = n.uuid), '[]'::json) AS followups
  FROM moxie_notifications n`;

const toNotification = (row: Row): MoxieNotification => ({
  uuid: row.uuid, message: row.message, timestamp: new Date(row.starts_at), expires: new Date(row.expires_at), url: row.url, label: row.label,
  followups: row.followups.map((f) => ({ id: f.id, message: f.message, timestamp: new Date(f.at) })),
});

export class SqlMoxie implements MoxieStore {
  constructor(private readonly db: Db) {}

  async create(n: Omit<MoxieNotification, 'followups'>): Promise<void> {
    await this.db.query('INSERT INTO moxie_notifications (uuid, message, starts_at, expires_at, url, label) VALUES ($1, $2, $3, $4, $5, $6)',
      [n.uuid, n.message, n.timestamp.toISOString(), n.expires.toISOString(), n.url, n.label]);
  }

  async get(uuid: string): Promise<MoxieNotification | null> {
    const [row] = await this.db.query<Row>(`${SELECT} WHERE n.uuid = $1`, [uuid]);
    return row ? toNotification(row) : null;
  }

  async list(history: boolean, now: Date): Promise<MoxieNotification[]> {
    const rows = await this.db.query<Row>(`${SELECT} WHERE $1 OR (n.starts_at <= $2 AND n.expires_at >= $2) ORDER BY n.starts_at DESC, n.uuid LIMIT 1000`, [history, now.toISOString()]);
    return rows.map(toNotification);
  }

  async update(uuid: string, fields: MoxieFields): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE moxie_notifications SET message = coalesce($2, message), starts_at = coalesce($3, starts_at), expires_at = coalesce($4, expires_at),
         url = CASE WHEN $5 THEN $6 ELSE url END, label = CASE WHEN $7 THEN $8 ELSE label END
       WHERE uuid = $1 RETURNING uuid`,
      [uuid, fields.message ?? null, fields.timestamp?.toISOString() ?? null, fields.expires?.toISOString() ?? null,
        'url' in fields, fields.url ?? null, 'label' in fields, fields.label ?? null]);
    return rows.length > 0;
  }

  async remove(uuid: string): Promise<boolean> {
    return (await this.db.query('DELETE FROM moxie_notifications WHERE uuid = $1 RETURNING uuid', [uuid])).length > 0;
  }

  async addFollowup(uuid: string, message: string, timestamp: Date): Promise<number | null> {
    return this.db.transaction(async (tx) => {
      // The notification row lock numbers follow-ups without gaps or races.
      const [parent] = await tx.query('SELECT uuid FROM moxie_notifications WHERE uuid = $1 FOR UPDATE', [uuid]);
      if (!parent) return null;
      const [row] = await tx.query<{ id: number }>(
        `INSERT INTO moxie_followups (notification, id, message, at)
         VALUES ($1, (SELECT coalesce(max(id), 0) + 1 FROM moxie_followups WHERE notification = $1), $2, $3) RETURNING id`,
        [uuid, message, timestamp.toISOString()]);
      return row.id;
    });
  }

  async updateFollowup(uuid: string, id: number, fields: { message?: string; timestamp?: Date }): Promise<boolean> {
    const rows = await this.db.query(
      'UPDATE moxie_followups SET message = coalesce($3, message), at = coalesce($4, at) WHERE notification = $1 AND id = $2 RETURNING id',
      [uuid, id, fields.message ?? null, fields.timestamp?.toISOString() ?? null]);
    return rows.length > 0;
  }

  async removeFollowup(uuid: string, id: number): Promise<boolean> {
    return (await this.db.query('DELETE FROM moxie_followups WHERE notification = $1 AND id = $2 RETURNING id', [uuid, id])).length > 0;
  }
}
