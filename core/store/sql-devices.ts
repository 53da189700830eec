import type { Db } from './db.js';
import type { Device, DeviceStore, ExpiredToken, NewDevice, Platform, Registration, WebPushKeys } from './devices.js';

interface DeviceRow {
  id: number; user_id: number; app_id: string; platform: Platform; token: string; keys: WebPushKeys | null;
  expiration_time: number | null; created_at: Date | string; expired_at: Date | string | null; expired_reason: string | null;
}

export const DEVICE_COLUMNS = 'id, user_id, app_id, platform, token, keys, expiration_time, created_at, expired_at, expired_reason';

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());

export const toDevice = (row: DeviceRow): Device => ({
  id: row.id, userId: row.user_id, app: row.app_id, platform: row.platform, token: row.token, keys: row.keys,
  expirationTime: row.expiration_time, createdAt: iso(row.created_at)!, expiredAt: iso(row.expired_at), expiredReason: row.expired_reason,
});

export class SqlDevices implements DeviceStore {
  constructor(private readonly db: Db) {}

  async register(userId: number, device: NewDevice, maxDevices: number): Promise<Registration> {
    const keys = device.keys ? JSON.stringify(device.keys) : null;
    return this.db.transaction(async (tx) => {
      // The user's row lock serialises their registrations, so the count below holds until commit.
      await tx.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [userId]);
      for (;;) {
        const [known] = await tx.query<DeviceRow>(
          `SELECT ${DEVICE_COLUMNS} FROM devices WHERE app_id = $1 AND platform = $2 AND token = $3 FOR UPDATE`, [device.app, device.platform, device.token]);
        const mine = known?.user_id === userId;
        if (known && !mine && known.expired_at === null) return { outcome: 'taken' };
        if (!mine && (await this.count(userId, tx)) >= maxDevices) return { outcome: 'full' };
        if (known) {
          const [row] = await tx.query<DeviceRow>(
            `UPDATE devices SET user_id = $1, keys = $2, expiration_time = $3, expired_at = NULL, expired_reason = NULL WHERE id = $4 RETURNING ${DEVICE_COLUMNS}`,
            [userId, keys, device.expirationTime ?? null, known.id]);
          return { outcome: mine ? 'updated' : 'created', device: toDevice(row) };
        }
        // Another registration of the same token may commit first: then the loop reads it.
        const [row] = await tx.query<DeviceRow>(
          `INSERT INTO devices (user_id, app_id, platform, token, keys, expiration_time) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (app_id, platform, token) DO NOTHING RETURNING ${DEVICE_COLUMNS}`,
          [userId, device.app, device.platform, device.token, keys, device.expirationTime ?? null]);
        if (row) return { outcome: 'created', device: toDevice(row) };
      }
    });
  }

  async list(userId: number): Promise<Device[]> {
    const rows = await this.db.query<DeviceRow>(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE user_id = $1 ORDER BY id`, [userId]);
    return rows.map(toDevice);
  }

  async count(userId: number, db: Db = this.db): Promise<number> {
    const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM devices WHERE user_id = $1', [userId]);
    return row.n;
  }

  async remove(userId: number, deviceId: number): Promise<boolean> {
    const rows = await this.db.query('DELETE FROM devices WHERE id = $1 AND user_id = $2 RETURNING id', [deviceId, userId]);
    return rows.length > 0;
  }

  async expired(app: string, limit: number): Promise<ExpiredToken[]> {
    const rows = await this.db.query<{ platform: Platform; token: string; expired_at: Date | string; reason: string }>(
      `SELECT platform, token, expired_at, coalesce(expired_reason, 'unregistered') AS reason FROM devices WHERE app_id = $1 AND expired_at IS NOT NULL
       UNION ALL
       SELECT platform, token, expired_at, reason FROM dead_tokens WHERE app_id = $1
       ORDER BY expired_at DESC, token LIMIT $2`, [app, limit]);
    return rows.map((row) => ({ platform: row.platform, token: row.token, expiredAt: iso(row.expired_at)!, reason: row.reason }));
  }

  async recordDead(app: string, platform: Platform, tokens: readonly { token: string; reason: string }[]): Promise<void> {
    if (tokens.length === 0) return;
    await this.db.query(
      `INSERT INTO dead_tokens (app_id, platform, token, reason) SELECT $1, $2, t.token, t.reason FROM unnest($3::text[], $4::text[]) AS t(token, reason)
       ON CONFLICT (app_id, platform, token) DO UPDATE SET reason = EXCLUDED.reason, expired_at = now()`,
      [app, platform, tokens.map((t) => t.token), tokens.map((t) => t.reason)]);
  }
}
