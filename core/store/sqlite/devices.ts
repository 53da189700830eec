import type { Device, DeviceStore, ExpiredToken, NewDevice, Platform, Registration, WebPushKeys } from '../devices.js';
import { isoNow, type Sqlite } from './db.js';

export interface DeviceRow {
  id: number; user_id: number; app_id: string; platform: Platform; token: string; keys: string | null;
  expiration_time: number | null; created_at: string; expired_at: string | null; expired_reason: string | null;
}

export const DEVICE_COLUMNS = 'id, user_id, app_id, platform, token, keys, expiration_time, created_at, expired_at, expired_reason';

export const toDevice = (row: DeviceRow): Device => ({
  id: row.id, userId: row.user_id, app: row.app_id, platform: row.platform, token: row.token,
  keys: row.keys === null ? null : (JSON.parse(row.keys) as WebPushKeys), expirationTime: row.expiration_time,
  createdAt: row.created_at, expiredAt: row.expired_at, expiredReason: row.expired_reason,
});

export class SqliteDevices implements DeviceStore {
  constructor(private readonly sqlite: Sqlite) {}

  async register(userId: number, device: NewDevice, maxDevices: number): Promise<Registration> {
    // One thread writes: the transaction alone makes the count and the insert atomic.
    return this.sqlite.transaction(() => {
      const known = this.sqlite.get<{ id: number; user_id: number; expired_at: string | null }>(
        'SELECT id, user_id, expired_at FROM devices WHERE app_id = ? AND platform = ? AND token = ?', device.app, device.platform, device.token);
      const mine = known?.user_id === userId;
      if (known && !mine && known.expired_at === null) return { outcome: 'taken' as const };
      if (!mine && this.sqlite.get<{ n: number }>('SELECT count(*) AS n FROM devices WHERE user_id = ?', userId)!.n >= maxDevices) return { outcome: 'full' as const };
      const keys = device.keys ? JSON.stringify(device.keys) : null;
      const row = known
        ? this.sqlite.get<DeviceRow>(
          `UPDATE devices SET user_id = ?, keys = ?, expiration_time = ?, expired_at = NULL, expired_reason = NULL WHERE id = ? RETURNING ${DEVICE_COLUMNS}`,
          userId, keys, device.expirationTime ?? null, known.id)!
        : this.sqlite.get<DeviceRow>(
          `INSERT INTO devices (user_id, app_id, platform, token, keys, expiration_time, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING ${DEVICE_COLUMNS}`,
          userId, device.app, device.platform, device.token, keys, device.expirationTime ?? null, isoNow())!;
      return { outcome: mine ? 'updated' as const : 'created' as const, device: toDevice(row) };
    });
  }

  async list(userId: number): Promise<Device[]> {
    return this.sqlite.all<DeviceRow>(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE user_id = ? ORDER BY id`, userId).map(toDevice);
  }

  async count(userId: number): Promise<number> {
    return this.sqlite.get<{ n: number }>('SELECT count(*) AS n FROM devices WHERE user_id = ?', userId)!.n;
  }

  async remove(userId: number, deviceId: number): Promise<boolean> {
    return this.sqlite.run('DELETE FROM devices WHERE id = ? AND user_id = ?', deviceId, userId).changes > 0;
  }

  async expired(app: string, limit: number): Promise<ExpiredToken[]> {
    const rows = this.sqlite.all<{ platform: Platform; token: string; expired_at: string; reason: string }>(
      `SELECT platform, token, expired_at, coalesce(expired_reason, 'unregistered') AS reason FROM devices WHERE app_id = ? AND expired_at IS NOT NULL
       UNION ALL
       SELECT platform, token, expired_at, reason FROM dead_tokens WHERE app_id = ?
       ORDER BY expired_at DESC, token LIMIT ?`, app, app, limit);
    return rows.map((row) => ({ platform: row.platform, token: row.token, expiredAt: row.expired_at, reason: row.reason }));
  }

  async recordDead(app: string, platform: Platform, tokens: readonly { token: string; reason: string }[]): Promise<void> {
    this.sqlite.transaction(() => {
      for (const { token, reason } of tokens) {
        this.sqlite.run(
          `INSERT INTO dead_tokens (app_id, platform, token, reason, expired_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (app_id, platform, token) DO UPDATE SET reason = excluded.reason, expired_at = excluded.expired_at`,
          app, platform, token, reason, isoNow());
      }
    });
  }
}
