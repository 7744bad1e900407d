import type { CertificateKind, RowError, UploadStatus } from '@divoc/contracts';
import type { Queryable } from '@divoc/platform';

/**
 * Bulk CSV uploads (migration 0004): the upload and its counters, one row per data row, and the file
 * itself while it is processed (in ~1 MiB chunks, so neither writing nor reading it needs the whole
 * file in memory).
 */

export interface UploadRecord {
  id: string;
  kind: CertificateKind;
  filename: string;
  actor: string;
  status: UploadStatus;
  error: string | null;
  columns: string[] | null;
  bytes: number;
  totalRows: number | null;
  validRows: number;
  invalidRows: number;
  issuedRows: number;
  duplicateRows: number;
  failedRows: number;
  nextRow: number;
  createdAt: Date;
  receivedAt: Date | null;
  publishedAt: Date | null;
  completedAt: Date | null;
  cellsRemovedAt: Date | null;
}

const UPLOAD_COLUMNS = `id, kind, filename, actor, status, error, columns, bytes::float8 AS bytes, total_rows AS "totalRows",
  valid_rows AS "validRows", invalid_rows AS "invalidRows", issued_rows AS "issuedRows",
  duplicate_rows AS "duplicateRows", failed_rows AS "failedRows", next_row AS "nextRow", created_at AS "createdAt",
  received_at AS "receivedAt", published_at AS "publishedAt", completed_at AS "completedAt",
  cells_removed_at AS "cellsRemovedAt"`;

/** Thrown when an upload is no longer this worker's to process (another pod took it over, or it ended). */
export class UploadLeaseLost extends Error {}

export const createUpload = async (
  db: Queryable,
  upload: { id: string; kind: CertificateKind; filename: string; actor: string },
): Promise<void> => {
  await db.query(
    `INSERT INTO uploads (id, kind, filename, actor, status, created_at, updated_at)
     VALUES ($1, $2, $3, $4, 'receiving', now(), now())`,
    [upload.id, upload.kind, upload.filename, upload.actor],
  );
};

/**
 * Stores the next piece of the file (`seq` counts from 0). The bytes travel as base64 text: PGlite
 * binds a bytea parameter about seven times slower, and reads one back twenty times slower.
 */
export const appendUploadFile = async (db: Queryable, uploadId: string, seq: number, data: Buffer) => {
  await db.query(`INSERT INTO upload_files (upload_id, seq, data) VALUES ($1, $2, decode($3, 'base64'))`, [
    uploadId,
    seq,
    data.toString('base64'),
  ]);
};

/** The whole file is stored and its header is valid: it may be processed now. */
export const markUploadReceived = async (
  db: Queryable,
  uploadId: string,
  { bytes, columns }: { bytes: number; columns: string[] },
): Promise<void> => {
  await db.query(
    `UPDATE uploads SET status = 'processing', bytes = $2, columns = $3::jsonb, received_at = now(), updated_at = now()
     WHERE id = $1 AND status = 'receiving'`,
    [uploadId, bytes, JSON.stringify(columns)],
  );
};

/** The file was refused (400 at upload): nothing of it is kept but the reason. */
export const rejectUpload = async (db: Queryable, uploadId: string, error: string, bytes: number): Promise<void> => {
  await db.query(
    `WITH gone AS (DELETE FROM upload_files WHERE upload_id = $1)
     UPDATE uploads SET status = 'rejected', error = $2, bytes = $3, updated_at = now() WHERE id = $1`,
    [uploadId, error, bytes],
  );
};

/** The stored file, one piece at a time (only one piece is in memory at once). */
export async function* readUploadFile(db: Queryable, uploadId: string): AsyncGenerator<Buffer> {
  for (let seq = 0; ; seq++) {
    const { rows } = await db.query<{ data: string }>(
      `SELECT encode(data, 'base64') AS data FROM upload_files WHERE upload_id = $1 AND seq = $2`,
      [uploadId, seq],
    );
    const row = rows[0];
    if (row === undefined) return;
    yield Buffer.from(row.data, 'base64');
  }
}

export const findUpload = async (db: Queryable, uploadId: string): Promise<UploadRecord | undefined> =>
  (await db.query<UploadRecord>(`SELECT ${UPLOAD_COLUMNS} FROM uploads WHERE id = $1`, [uploadId])).rows[0];

export const listUploads = async (
  db: Queryable,
  { actor, kind, limit, offset }: { actor: string; kind: CertificateKind; limit: number; offset: number },
): Promise<UploadRecord[]> =>
  (
    await db.query<UploadRecord>(
      `SELECT ${UPLOAD_COLUMNS} FROM uploads WHERE actor = $1 AND kind = $2
       ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4`,
      [actor, kind, limit, offset],
    )
  ).rows;

/**
 * Takes the upload for `owner` for `leaseMs` when nobody holds it (or the holder's lease ran out):
 * at most one gateway processes an upload at a time. Undefined when it is not to be processed.
 */
export const claimUpload = async (
  db: Queryable,
  uploadId: string,
  owner: string,
  leaseMs: number,
): Promise<UploadRecord | undefined> =>
  (
    await db.query<UploadRecord>(
      `UPDATE uploads SET lease_owner = $2, lease_until = now() + make_interval(secs => $3), updated_at = now()
       WHERE id = $1 AND status = 'processing' AND published_at IS NULL
         AND (lease_owner IS NULL OR lease_owner = $2 OR lease_until < now())
       RETURNING ${UPLOAD_COLUMNS}`,
      [uploadId, owner, leaseMs / 1000],
    )
  ).rows[0];

/** Uploads waiting to be processed that nobody holds (new, or left by a stopped or crashed pod), oldest first. */
export const findUnclaimedUploads = async (db: Queryable, limit = 20): Promise<string[]> =>
  (
    await db.query<{ id: string }>(
      `SELECT id FROM uploads
       WHERE status = 'processing' AND published_at IS NULL AND (lease_owner IS NULL OR lease_until < now())
       ORDER BY created_at LIMIT $1`,
      [limit],
    )
  ).rows.map((row) => row.id);

export const releaseUpload = async (db: Queryable, uploadId: string, owner: string): Promise<void> => {
  await db.query('UPDATE uploads SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2', [
    uploadId,
    owner,
  ]);
};

/** Records how many data rows the file has (after the first read-through). */
export const setUploadTotal = async (db: Queryable, uploadId: string, owner: string, total: number) => {
  const { rowCount } = await db.query(
    `UPDATE uploads SET total_rows = $3, updated_at = now() WHERE id = $1 AND lease_owner = $2 AND status = 'processing'`,
    [uploadId, owner, total],
  );
  if (rowCount === 0) throw new UploadLeaseLost(`upload ${uploadId} is no longer held by this worker`);
};

/** A row as the gateway records it: invalid (with errors) or queued (with its request id). */
export interface NewUploadRow {
  row: number;
  status: 'invalid' | 'queued';
  errors?: RowError[] | undefined;
  cells: string[];
  requestId?: string | undefined;
}

/**
 * Inside the transaction that queues a chunk's requests: records its rows and moves the cursor from
 * `fromRow` to `nextRow`. Throws UploadLeaseLost (rolling the whole chunk back) unless this worker still
 * holds the upload and the cursor is where it expects — a chunk can never be queued twice.
 */
export const recordUploadChunk = async (
  tx: Queryable,
  chunk: {
    uploadId: string;
    owner: string;
    fromRow: number;
    nextRow: number;
    rows: readonly NewUploadRow[];
    leaseMs: number;
  },
): Promise<void> => {
  const valid = chunk.rows.filter((row) => row.status === 'queued').length;
  const { rowCount } = await tx.query(
    `UPDATE uploads SET next_row = $4, valid_rows = valid_rows + $5, invalid_rows = invalid_rows + $6,
       lease_until = now() + make_interval(secs => $7), updated_at = now()
     WHERE id = $1 AND lease_owner = $2 AND next_row = $3 AND status = 'processing'`,
    [chunk.uploadId, chunk.owner, chunk.fromRow, chunk.nextRow, valid, chunk.rows.length - valid, chunk.leaseMs / 1000],
  );
  if (rowCount === 0) throw new UploadLeaseLost(`upload ${chunk.uploadId} is no longer held by this worker`);
  if (chunk.rows.length === 0) return;
  await tx.query(
    `INSERT INTO upload_rows (upload_id, row_no, status, errors, cells, request_id, updated_at)
     SELECT $1, r.row_no, r.status, r.errors, r.cells, r.request_id, now()
     FROM jsonb_to_recordset($2::jsonb) AS r(row_no int, status text, errors jsonb, cells jsonb, request_id text)`,
    [
      chunk.uploadId,
      JSON.stringify(
        chunk.rows.map((row) => ({
          row_no: row.row,
          status: row.status,
          errors: row.errors ?? null,
          cells: row.cells,
          request_id: row.requestId ?? null,
        })),
      ),
    ],
  );
};

/**
 * Every row is queued: the file is deleted, the lease released, and the upload completes at once when
 * the signer has already answered for every valid row (or there was none).
 */
export const finishUploadPublishing = async (db: Queryable, uploadId: string, owner: string): Promise<void> => {
  const { rowCount } = await db.query(
    `WITH gone AS (DELETE FROM upload_files WHERE upload_id = $1)
     UPDATE uploads SET published_at = now(), lease_owner = NULL, lease_until = NULL, updated_at = now(),
       status = CASE WHEN issued_rows + duplicate_rows + failed_rows >= valid_rows THEN 'completed' ELSE status END,
       completed_at = CASE WHEN issued_rows + duplicate_rows + failed_rows >= valid_rows THEN now() END
     WHERE id = $1 AND lease_owner = $2 AND status = 'processing'`,
    [uploadId, owner],
  );
  if (rowCount === 0) throw new UploadLeaseLost(`upload ${uploadId} is no longer held by this worker`);
};

/** The file cannot be processed (e.g. broken CSV quoting): the reason is kept, the file deleted. */
export const failUpload = async (db: Queryable, uploadId: string, owner: string, error: string): Promise<void> => {
  await db.query(
    `WITH gone AS (DELETE FROM upload_files WHERE upload_id = $1)
     UPDATE uploads SET status = 'failed', error = $3, lease_owner = NULL, lease_until = NULL, updated_at = now()
     WHERE id = $1 AND lease_owner = $2 AND status = 'processing'`,
    [uploadId, owner, error],
  );
};

/** The outcome of one bulk row, from its certify_ack. */
export interface UploadRowOutcome {
  uploadId: string;
  row: number;
  requestId: string;
  status: 'issued' | 'duplicate' | 'failed';
  error?: string | undefined;
}

/**
 * Applies signer outcomes to upload rows and counters in ONE statement, with the ledger's rule: a
 * `queued` row takes the first outcome, so a redelivered ack counts once; a `failed` row can still
 * become issued or duplicate (its dead letter was replayed after the cause was fixed), never the other
 * way round. Issued and duplicate rows lose their cells at once; failed rows keep them (for the error
 * listing) with the reason. An upload whose rows are all queued and whose valid rows all have an
 * outcome is completed. Returns the rows changed.
 */
export const recordUploadOutcomes = async (db: Queryable, outcomes: readonly UploadRowOutcome[]): Promise<number> => {
  if (outcomes.length === 0) return 0;
  const { rows } = await db.query<{ changed: number }>(
    `WITH o AS (
       SELECT DISTINCT ON (upload_id, row_no) *
       FROM jsonb_to_recordset($1::jsonb) AS o(upload_id text, row_no int, request_id text, status text, error text)
       ORDER BY upload_id, row_no, (status = 'failed')
     ), previous AS (
       SELECT r.upload_id, r.row_no, r.status FROM upload_rows AS r
       JOIN o ON r.upload_id = o.upload_id AND r.row_no = o.row_no AND r.request_id = o.request_id
       WHERE r.status = 'queued' OR (r.status = 'failed' AND o.status <> 'failed')
       FOR UPDATE OF r
     ), changed AS (
       UPDATE upload_rows AS r SET status = o.status, updated_at = now(),
         errors = CASE WHEN o.status = 'issued' THEN NULL
                       ELSE jsonb_build_array(jsonb_build_object('field', '(row)', 'reason', coalesce(o.error, o.status))) END,
         cells = CASE WHEN o.status = 'failed' THEN r.cells END
       FROM previous AS p JOIN o ON o.upload_id = p.upload_id AND o.row_no = p.row_no
       WHERE r.upload_id = p.upload_id AND r.row_no = p.row_no
       RETURNING r.upload_id, r.status, p.status AS was
     ), counts AS (
       SELECT upload_id, count(*) FILTER (WHERE status = 'issued') AS issued,
              count(*) FILTER (WHERE status = 'duplicate') AS duplicate,
              count(*) FILTER (WHERE status = 'failed') - count(*) FILTER (WHERE was = 'failed') AS failed
       FROM changed GROUP BY upload_id
     ), updated AS (
       UPDATE uploads AS u SET issued_rows = u.issued_rows + c.issued, duplicate_rows = u.duplicate_rows + c.duplicate,
         failed_rows = u.failed_rows + c.failed, updated_at = now(),
         status = CASE WHEN u.status = 'processing' AND u.published_at IS NOT NULL
                        AND u.issued_rows + c.issued + u.duplicate_rows + c.duplicate + u.failed_rows + c.failed >= u.valid_rows
                       THEN 'completed' ELSE u.status END,
         completed_at = CASE WHEN u.status = 'processing' AND u.published_at IS NOT NULL
                        AND u.issued_rows + c.issued + u.duplicate_rows + c.duplicate + u.failed_rows + c.failed >= u.valid_rows
                       THEN now() ELSE u.completed_at END
       FROM counts AS c WHERE u.id = c.upload_id
       RETURNING u.id
     )
     SELECT (SELECT count(*) FROM changed)::int AS changed`,
    [
      JSON.stringify(
        outcomes.map((outcome) => ({
          upload_id: outcome.uploadId,
          row_no: outcome.row,
          request_id: outcome.requestId,
          status: outcome.status,
          error: outcome.error ?? null,
        })),
      ),
    ],
  );
  return rows[0]?.changed ?? 0;
};

export interface UploadErrorRow {
  row: number;
  status: 'invalid' | 'failed';
  errors: RowError[];
  cells: string[] | null;
}

/** The invalid and failed rows of an upload after row `afterRow`, in row order. */
export const listUploadErrors = async (
  db: Queryable,
  uploadId: string,
  { afterRow, limit }: { afterRow: number; limit: number },
): Promise<UploadErrorRow[]> =>
  (
    await db.query<UploadErrorRow>(
      `SELECT row_no AS "row", status, errors, cells FROM upload_rows
       WHERE upload_id = $1 AND status IN ('invalid', 'failed') AND row_no > $2
       ORDER BY row_no LIMIT $3`,
      [uploadId, afterRow, limit],
    )
  ).rows;

/**
 * Retention (BULK_ERROR_RETENTION_DAYS): deletes the cells of every row of uploads received before
 * `cutoff` (row numbers, statuses and reasons stay) and any file still stored for them. Also gives up
 * uploads whose transfer never finished (`receiving` before `staleBefore`: the client got no answer)
 * and uploads still not queued at `cutoff`.
 * Returns how many uploads lost their cells.
 */
export const removeExpiredUploadData = async (
  db: Queryable,
  { cutoff, staleBefore }: { cutoff: Date; staleBefore: Date },
): Promise<number> => {
  await db.query(
    `WITH stale AS (
       UPDATE uploads SET status = 'rejected', error = 'the transfer of the file was interrupted', updated_at = now()
       WHERE status = 'receiving' AND created_at < $1 RETURNING id
     )
     DELETE FROM upload_files WHERE upload_id IN (SELECT id FROM stale)`,
    [staleBefore.toISOString()],
  );
  // An upload not even queued by the end of the retention period will not be: it fails, its file goes.
  await db.query(
    `WITH expired AS (
       UPDATE uploads SET status = 'failed', error = 'the file was not processed within the retention period',
         lease_owner = NULL, lease_until = NULL, updated_at = now()
       WHERE status = 'processing' AND published_at IS NULL AND created_at < $1 RETURNING id
     )
     DELETE FROM upload_files WHERE upload_id IN (SELECT id FROM expired)`,
    [cutoff.toISOString()],
  );
  const { rows } = await db.query<{ id: string }>(
    'SELECT id FROM uploads WHERE cells_removed_at IS NULL AND created_at < $1 ORDER BY created_at',
    [cutoff.toISOString()],
  );
  for (const { id } of rows) {
    await db.query(
      `WITH cells AS (UPDATE upload_rows SET cells = NULL WHERE upload_id = $1 AND cells IS NOT NULL),
            files AS (DELETE FROM upload_files WHERE upload_id = $1)
       UPDATE uploads SET cells_removed_at = now(), updated_at = now() WHERE id = $1`,
      [id],
    );
  }
  return rows.length;
};
