import { createPgliteDatabase, createPostgresDatabase, type Database } from '@divoc/platform';
import { realInfraEnv, uniqueName, useRealInfra } from '@divoc/platform/testing';
import { afterAll, beforeAll } from 'vitest';
import { migrate } from '../src/index.js';

/**
 * A migrated database of its own for one test file: a fresh Postgres database in `pnpm test:infra`,
 * an in-memory PGlite in `pnpm test`. `drop` closes it (and drops the Postgres database).
 */
export const openTestDatabase = async (): Promise<{ db: Database; drop: () => Promise<void> }> => {
  if (!useRealInfra()) {
    const db = await createPgliteDatabase();
    await migrate(db);
    return { db, drop: () => db.close() };
  }
  const name = uniqueName('store').replace(/-/g, '_');
  const admin = createPostgresDatabase({ url: realInfraEnv().DATABASE_URL, maxConnections: 1 });
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(realInfraEnv().DATABASE_URL);
  url.pathname = `/${name}`;
  const db = createPostgresDatabase({ url: url.toString() });
  await migrate(db);
  return {
    db,
    drop: async () => {
      await db.close();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.close();
    },
  };
};

/** Opens a test database before the file's tests and drops it after them; `db` is set once they run. */
export const useTestDatabase = (): { db: Database } => {
  const store = {} as { db: Database };
  let drop = async () => {};
  beforeAll(async () => {
    ({ db: store.db, drop } = await openTestDatabase());
  });
  afterAll(() => drop());
  return store;
};
