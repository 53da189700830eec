import type { ApplicationStore, Credentials } from './applications.js';
import type { Db } from './db.js';

export class SqlApplications implements ApplicationStore {
  constructor(private readonly db: Db) {}

  async get(id: string): Promise<Credentials | null> {
    const [row] = await this.db.query<{ credentials: Credentials }>('SELECT credentials FROM applications WHERE id = $1', [id]);
    return row?.credentials ?? null;
  }

  async put(id: string, credentials: Credentials): Promise<void> {
    await this.db.query(
      `INSERT INTO applications (id, credentials) VALUES ($1, $2)
       ON CONFLICT (id) DO UPDATE SET credentials = EXCLUDED.credentials, updated_at = now()`, [id, JSON.stringify(credentials)]);
  }

  async setting<T>(name: string, create: () => T | Promise<T>): Promise<T> {
    const read = async () => (await this.db.query<{ value: T }>('SELECT value FROM settings WHERE name = $1', [name]))[0];
    const existing = await read();
    if (existing) return existing.value;
    await this.db.query('INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, JSON.stringify(await create())]);
    return (await read()).value;
  }
}
