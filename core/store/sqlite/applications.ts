import type { ApplicationStore, Credentials } from '../applications.js';
import { isoNow, type Sqlite } from './db.js';
import { settingIn } from './shared.js';

export class SqliteApplications implements ApplicationStore {
  constructor(private readonly sqlite: Sqlite) {}

  async get(id: string): Promise<Credentials | null> {
    const row = this.sqlite.get<{ credentials: string }>('SELECT credentials FROM applications WHERE id = ?', id);
    return row ? (JSON.parse(row.credentials) as Credentials) : null;
  }

  async put(id: string, credentials: Credentials): Promise<void> {
    const now = isoNow();
    this.sqlite.run(
      `INSERT INTO applications (id, credentials, created_at, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET credentials = excluded.credentials, updated_at = excluded.updated_at`, id, JSON.stringify(credentials), now, now);
  }

  async setting<T>(name: string, create: () => T | Promise<T>): Promise<T> {
    return settingIn(this, name, create);
  }

  /** A setting's value, undefined when none was kept yet. */
  settingValue<T>(name: string): T | undefined {
    const row = this.sqlite.get<{ value: string }>('SELECT value FROM settings WHERE name = ?', name);
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  /** Keeps `value` unless a value is kept already (the first writer wins); returns the value kept. */
  keepSetting<T>(name: string, value: T): T {
    this.sqlite.run('INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING', name, JSON.stringify(value));
    return this.settingValue<T>(name)!;
  }
}
