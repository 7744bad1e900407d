/**
 * The database port (DESIGN §4, §7): Postgres via `pg` in production, PGlite (Postgres compiled to
 * WebAssembly, file-backed) in embedded mode — the same SQL and the same migrations on both.
 */
export interface QueryResult<R> {
  rows: R[];
  /** Rows inserted, updated or deleted by the statement. */
  rowCount: number;
}

export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  /** Runs several statements separated by semicolons, without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `work` in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  health(): Promise<void>;
  close(): Promise<void>;
}

const TRANSIENT_CODES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '53300', // too_many_connections
  '55P03', // lock_not_available
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
]);
const TRANSIENT_NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);

/**
 * True for failures that go away by themselves (database restarting, network, contention): worth a
 * retry with backoff. Everything else (constraint violations, bad SQL) is a bug or bad data.
 */
export const isTransientDatabaseError = (error: unknown): boolean => {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  if (code !== undefined && (TRANSIENT_CODES.has(code) || code.startsWith('08') || TRANSIENT_NETWORK.has(code)))
    return true;
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
    message ?? '',
  );
};

/** Unique-constraint violation (a duplicate key): the caller decides what it means. */
export const isUniqueViolation = (error: unknown): boolean => (error as { code?: string })?.code === '23505';
