import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Test } from 'tap';
import { PgDb } from '../../core/store/db.js';

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

/**
 * A fresh database with one PgDb per pool size asked for (several: like several processes on
 * one database), closed and dropped when the test ends; an idle connection's error fails it.
 */
export async function freshPgDbs(t: Test, ...poolSizes: number[]): Promise<PgDb[]> {
  const database = await createDatabase();
  const dbs = poolSizes.map((size) => new PgDb(database.url, (error) => t.fail(`idle connection error: ${error.message}`), size));
  t.teardown(async () => {
    await Promise.all(dbs.map((db) => db.close()));
    await database.drop();
  });
  return dbs;
}
