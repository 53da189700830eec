import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const ADMIN_DATABASE_URL = process.env.PUSHWIRE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = process.env.PUSHWIRE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

/** A fresh PostgreSQL database for one test file, dropped at the end. */
export async function createDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `pw_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** A Redis key prefix of one test file, so files never see each other's keys. */
export const redisPrefix = (): string => `pwtest:${randomBytes(4).toString('hex')}:`;
