import { readdirSync, readFileSync } from 'node:fs';
import type { Database, Logger } from '@divoc/platform';

const MIGRATIONS_DIR = new URL('../migrations/', import.meta.url);
/** Any fixed number: the advisory lock that serializes migration runs started by several pods at once. */
const MIGRATION_LOCK = 4_217_001;

export interface Migration {
  version: string;
  sql: string;
}

/** The migrations shipped with this package, in order (file names sort by version). */
export const migrations = (): Migration[] =>
  readdirSync(MIGRATIONS_DIR)
    .filter((name) => name.endsWith('.sql'))
    .sort()
    .map((name) => ({ version: name.replace(/\.sql$/, ''), sql: readFileSync(new URL(name, MIGRATIONS_DIR), 'utf8') }));

/**
 * Applies the migrations that are not yet applied, all in one transaction (Postgres DDL is
 * transactional: a failed migration leaves the schema as it was). Safe to run from every service at
 * start and from the Kubernetes migration Job at once.
 */
export const migrate = async (db: Database, logger?: Logger): Promise<string[]> =>
  db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const { rows } = await tx.query<{ version: string }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((row) => row.version));
    const pending = migrations().filter((migration) => !applied.has(migration.version));
    for (const migration of pending) {
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO schema_migrations (version) VALUES ($1)', [migration.version]);
      logger?.info({ migration: migration.version }, 'applied migration');
    }
    return pending.map((migration) => migration.version);
  });
