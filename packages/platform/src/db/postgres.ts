import pg from 'pg';
import type { Database, Queryable, QueryResult } from './port.js';

export interface PostgresOptions {
  url: string;
  /** Connections in the pool (default 10). */
  maxConnections?: number;
  /** How long to wait for a free connection or a new connection before failing (default 5 s). */
  connectTimeoutMs?: number;
  /** Statement timeout (default 30 s): a stuck query must not hold a consumer forever. */
  statementTimeoutMs?: number;
}

// int8 (counts, sequences) as numbers and numeric as numbers, like PGlite; dates stay Date objects.
const INT8 = 20;
const NUMERIC = 1700;
const typeParsers = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8 || oid === NUMERIC
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

const toResult = <R>(result: pg.QueryResult): QueryResult<R> => ({
  rows: result.rows as R[],
  rowCount: result.rowCount ?? 0,
});

/** Postgres through a `pg` connection pool. */
export const createPostgresDatabase = ({
  url,
  maxConnections = 10,
  connectTimeoutMs = 5000,
  statementTimeoutMs = 30_000,
}: PostgresOptions): Database => {
  const pool = new pg.Pool({
    connectionString: url,
    max: maxConnections,
    connectionTimeoutMillis: connectTimeoutMs,
    statement_timeout: statementTimeoutMs,
    types: typeParsers,
  });
  // An idle client losing its connection (database restart) must not crash the process; the next
  // query gets a fresh connection or a transient error the caller retries.
  pool.on('error', () => undefined);

  const query = async <R>(sql: string, params?: readonly unknown[]) =>
    toResult<R>(await pool.query(sql, params as unknown[]));

  return {
    kind: 'postgres',
    query,
    async transaction(work) {
      const client = await pool.connect();
      const tx: Queryable = {
        query: async <R>(sql: string, params?: readonly unknown[]) =>
          toResult<R>(await client.query(sql, params as unknown[])),
        exec: async (sql) => {
          await client.query(sql);
        },
      };
      try {
        await client.query('BEGIN');
        const result = await work(tx);
        await client.query('COMMIT');
        client.release();
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        // A client whose connection broke must not go back into the pool.
        client.release(error instanceof Error);
        throw error;
      }
    },
    async exec(sql) {
      await pool.query(sql);
    },
    async health() {
      await pool.query('SELECT 1');
    },
    async close() {
      await pool.end();
    },
  };
};
