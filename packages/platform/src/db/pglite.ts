import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import type { Database, Queryable, QueryResult } from './port.js';

const toResult = <R>(result: { rows: unknown[]; affectedRows?: number }): QueryResult<R> => ({
  rows: result.rows as R[],
  rowCount: result.affectedRows ?? 0,
});

/**
 * PGlite: Postgres in WebAssembly, in this process. `dataDir` keeps the data on disk (embedded mode,
 * `.divoc-data/`); without it the database lives in memory (tests). One connection, so statements
 * run one at a time — fine for evaluation and tests, not for production load.
 */
export const createPgliteDatabase = async ({ dataDir }: { dataDir?: string } = {}): Promise<Database> => {
  if (dataDir !== undefined) mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir === undefined ? undefined : dataDir);
  return {
    kind: 'pglite',
    async query<R>(sql: string, params?: readonly unknown[]) {
      return toResult<R>(await db.query(sql, params as unknown[]));
    },
    transaction(work) {
      return db.transaction(async (inner) => {
        const tx: Queryable = {
          query: async <R>(sql: string, params?: readonly unknown[]) =>
            toResult<R>(await inner.query(sql, params as unknown[])),
          exec: async (sql) => {
            await inner.exec(sql);
          },
        };
        return work(tx);
      });
    },
    async exec(sql) {
      await db.exec(sql);
    },
    async health() {
      await db.query('SELECT 1');
    },
    async close() {
      await db.close();
    },
  };
};
