import { pipeline, Readable } from 'node:stream';
import { bulkRequestId, type CertifyEvent, csvRowToRequest, type RowError, TOPICS } from '@divoc/contracts';
import { type Database, type Logger, uuidv7 } from '@divoc/platform';
import {
  claimUpload,
  failUpload,
  findUnclaimedUploads,
  finishUploadPublishing,
  type NewRequest,
  type NewUploadRow,
  type OutboxEvent,
  readUploadFile,
  recordUploadChunk,
  releaseUpload,
  removeExpiredUploadData,
  setUploadTotal,
  UploadLeaseLost,
  type UploadRecord,
} from '@divoc/store';
import { type CsvError, type Info, parse } from 'csv-parse';
import type { GroupCommitter } from '../group-commit.js';

export interface BulkSettings {
  /** BULK_UPLOAD_MAX_BYTES: the largest file accepted (default 50 MiB). */
  maxBytes?: number;
  /** BULK_ERROR_RETENTION_DAYS: how long the cells of failed rows are kept (default 30). */
  retentionDays?: number;
  /** Rows queued per transaction (default 1,000). */
  chunkRows?: number;
  /** How long an upload stays with a gateway that stopped renewing it (default 60 s). */
  leaseMs?: number;
  /** How often uploads nobody holds are looked for — left by a stopped or crashed pod (default 15 s); 0: never. */
  pollIntervalMs?: number;
  /** How often the retention cleanup runs (default 1 h); 0: never (tests call cleanup()). */
  cleanupIntervalMs?: number;
}

export interface BulkWorker {
  /** Processes this upload soon (it was just received). */
  kick(uploadId: string): void;
  /** Resolves when nothing is being processed or waiting. */
  idle(): Promise<void>;
  /** Retention: deletes the cells of rows of uploads older than the retention period (as of `now`). */
  cleanup(now?: Date): Promise<number>;
  /** Finishes the chunk in progress, hands the upload back (another pod or the next start resumes it). */
  stop(): Promise<void>;
}

/** A row longer than this is refused as a CSV error (no cell of the templates needs a fraction of it). */
const MAX_RECORD_BYTES = 128 * 1024;
const DAY_MS = 24 * 60 * 60 * 1000;
/** An upload still `receiving` after this long lost its client. */
const STALE_TRANSFER_MS = 60 * 60 * 1000;

const CSV_PROBLEMS: Record<string, string> = {
  CSV_QUOTE_NOT_CLOSED: 'a quoted cell is never closed',
  CSV_INVALID_CLOSING_QUOTE: 'a closing quote is followed by other characters than a comma or the end of the line',
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: 'a closing quote is followed by other characters',
  CSV_MAX_RECORD_SIZE: `a row is longer than ${MAX_RECORD_BYTES / 1024} KB`,
};

class CsvSyntaxError extends Error {}

const describeCsvError = (error: CsvError & { lines?: number }): string =>
  `the file is not valid CSV: ${CSV_PROBLEMS[error.code] ?? `${error.code.replace(/^CSV_/, '').replace(/_/g, ' ').toLowerCase()}`}${
    error.lines === undefined ? '' : ` (line ${error.lines})`
  }`;

const isCsvError = (error: unknown): error is CsvError =>
  error instanceof Error &&
  typeof (error as { code?: unknown }).code === 'string' &&
  /^CSV_/.test((error as CsvError).code);

/** Line breaks inside the cells of a record: its first line is `info.lines` minus these. */
const innerLineBreaks = (record: readonly string[]): number => {
  let count = 0;
  for (const cell of record) for (let at = cell.indexOf('\n'); at !== -1; at = cell.indexOf('\n', at + 1)) count++;
  return count;
};

interface Chunk {
  rows: NewUploadRow[];
  requests: NewRequest[];
  events: OutboxEvent[];
}

/**
 * The bulk worker of the gateway (decision 0013): reads a stored upload as a stream, turns each row
 * into the request the certify API takes (same schema), and queues chunks of rows through the group
 * committer — each chunk's ledger rows, `certify` events (with `upload: {uploadId, row}`), row records
 * and the upload's cursor in one transaction. Request ids are deterministic per (upload, row) and the
 * cursor moves in the chunk's transaction, so a crash and a resume never queue a row twice. One upload
 * at a time per gateway; a lease in the database keeps two gateways from processing the same upload.
 */
export const createBulkWorker = ({
  db,
  committer,
  logger,
  settings = {},
}: {
  db: Database;
  committer: GroupCommitter;
  logger: Logger;
  settings?: BulkSettings;
}): BulkWorker => {
  const chunkRows = settings.chunkRows ?? 1000;
  const leaseMs = settings.leaseMs ?? 60_000;
  const retentionDays = settings.retentionDays ?? 30;
  const owner = uuidv7();
  const log = logger.child({ component: 'bulk' });
  const waiting: string[] = [];
  let running: Promise<void> | undefined;
  let stopping = false;

  /** The records of the stored file, header first (with their line numbers if `info`); streams piece by piece. */
  const records = (upload: UploadRecord, counted: { bytes: number }, info = true) => {
    const source = Readable.from(
      (async function* () {
        for await (const piece of readUploadFile(db, upload.id)) {
          counted.bytes += piece.length;
          yield piece;
        }
      })(),
    );
    const parser = parse({
      bom: true,
      info,
      relax_column_count: true,
      skip_empty_lines: true,
      skip_records_with_empty_values: true,
      record_delimiter: ['\r\n', '\n'],
      max_record_size: MAX_RECORD_BYTES,
    });
    // One lifetime: an error on either side, or the reader stopping early, ends both.
    pipeline(source, parser, () => undefined);
    return parser as AsyncIterable<{ record: string[]; info: Info }>;
  };

  /** First pass: the file parses as CSV to its end (nothing is queued from a broken file); counts the rows. */
  const countRows = async (upload: UploadRecord): Promise<number> => {
    const counted = { bytes: 0 };
    let rows = -1;
    try {
      for await (const _ of records(upload, counted, false)) rows++;
    } catch (error) {
      if (isCsvError(error)) throw new CsvSyntaxError(describeCsvError(error));
      throw error;
    }
    if (counted.bytes !== upload.bytes) {
      throw new CsvSyntaxError(`the stored file is incomplete (${counted.bytes} of ${upload.bytes} bytes)`);
    }
    return Math.max(rows, 0);
  };

  const rowOf = (upload: UploadRecord, columns: string[], row: number, record: string[], at: Date): Chunk => {
    const invalid = (errors: RowError[]): Chunk => ({
      rows: [{ row, status: 'invalid', errors, cells: record }],
      requests: [],
      events: [],
    });
    if (record.length !== columns.length) {
      return invalid([
        { field: '(row)', reason: `has ${record.length} cells; the header has ${columns.length} columns` },
      ]);
    }
    const cells: Record<string, string> = {};
    columns.forEach((column, index) => {
      cells[column] = record[index] as string;
    });
    const converted = csvRowToRequest(upload.kind, cells);
    if (!converted.ok) return invalid(converted.errors);
    const requestId = bulkRequestId(upload.id, row);
    const event: CertifyEvent = {
      requestId,
      operation: 'certify',
      kind: upload.kind,
      apiVersion: 'v1',
      payload: converted.payload as unknown as Record<string, unknown>,
      actor: upload.actor,
      receivedAt: at.toISOString(),
      upload: { uploadId: upload.id, row },
    };
    return {
      rows: [{ row, status: 'queued', cells: record, requestId }],
      requests: [
        {
          requestId,
          operation: 'certify',
          kind: upload.kind,
          apiVersion: 'v1',
          preEnrollmentCode: converted.preEnrollmentCode,
          dose: converted.dose,
          actor: upload.actor,
          receivedAt: at,
        },
      ],
      events: [{ topic: TOPICS.certify, key: converted.preEnrollmentCode, value: JSON.stringify(event) }],
    };
  };

  /** Second pass: validates and queues every row from the cursor on; false when stopped midway. */
  const queueRows = async (upload: UploadRecord): Promise<boolean> => {
    const columns = upload.columns ?? [];
    let fromRow = upload.nextRow;
    let chunk: Chunk = { rows: [], requests: [], events: [] };
    const flush = async () => {
      if (chunk.rows.length === 0) return;
      const { rows, requests, events } = chunk;
      const nextRow = (rows[rows.length - 1] as NewUploadRow).row + 1;
      chunk = { rows: [], requests: [], events: [] };
      await committer.commit(requests, events, (tx) =>
        recordUploadChunk(tx, { uploadId: upload.id, owner, fromRow, nextRow, rows, leaseMs }),
      );
      fromRow = nextRow;
    };
    let header = true;
    const at = new Date();
    for await (const { record, info } of records(upload, { bytes: 0 })) {
      if (header) {
        header = false;
        continue;
      }
      const row = info.lines - innerLineBreaks(record);
      if (row < upload.nextRow) continue;
      const one = rowOf(upload, columns, row, record, at);
      chunk.rows.push(...one.rows);
      chunk.requests.push(...one.requests);
      chunk.events.push(...one.events);
      if (chunk.rows.length >= chunkRows) {
        await flush();
        if (stopping) return false;
      }
    }
    await flush();
    return true;
  };

  const processUpload = async (uploadId: string): Promise<void> => {
    const upload = await claimUpload(db, uploadId, owner, leaseMs);
    if (upload === undefined) return;
    const started = Date.now();
    try {
      if (upload.totalRows === null) {
        let total: number;
        try {
          total = await countRows(upload);
        } catch (error) {
          if (!(error instanceof CsvSyntaxError)) throw error;
          await failUpload(db, upload.id, owner, error.message);
          log.info({ uploadId, reason: error.message }, 'bulk upload failed: the file is not valid CSV');
          return;
        }
        await setUploadTotal(db, upload.id, owner, total);
        upload.totalRows = total;
      }
      if (upload.nextRow > 1) log.info({ uploadId, fromRow: upload.nextRow }, 'resuming bulk upload');
      if (!(await queueRows(upload))) {
        await releaseUpload(db, upload.id, owner);
        return;
      }
      await finishUploadPublishing(db, upload.id, owner);
      log.info({ uploadId, rows: upload.totalRows, ms: Date.now() - started }, 'bulk upload queued');
    } catch (error) {
      if (error instanceof UploadLeaseLost) {
        log.warn({ uploadId }, 'bulk upload taken over by another gateway; stopped processing it here');
        return;
      }
      if (isCsvError(error)) {
        // The first pass read the same bytes to the end; should the second disagree, the file fails.
        await failUpload(db, upload.id, owner, describeCsvError(error)).catch(() => undefined);
        return;
      }
      // Transient (database, bus): hand it back; the next poll (here or on another pod) resumes it.
      log.error({ err: error, uploadId }, 'processing a bulk upload failed; it will be resumed');
      await releaseUpload(db, upload.id, owner).catch(() => undefined);
    }
  };

  const drain = () => {
    if (running !== undefined || stopping) return;
    running = (async () => {
      while (waiting.length > 0 && !stopping) await processUpload(waiting.shift() as string);
    })().finally(() => {
      running = undefined;
      if (waiting.length > 0 && !stopping) drain();
    });
  };

  const kick = (uploadId: string) => {
    if (!waiting.includes(uploadId)) waiting.push(uploadId);
    drain();
  };

  const resumeUnclaimed = async () => {
    try {
      for (const uploadId of await findUnclaimedUploads(db)) kick(uploadId);
    } catch (error) {
      log.warn({ err: error }, 'looking for bulk uploads to resume failed; will retry');
    }
  };

  const cleanup = async (now = new Date()) => {
    const count = await removeExpiredUploadData(db, {
      cutoff: new Date(now.getTime() - retentionDays * DAY_MS),
      staleBefore: new Date(now.getTime() - STALE_TRANSFER_MS),
    });
    if (count > 0) log.info({ uploads: count, retentionDays }, 'deleted the cells of expired bulk uploads');
    return count;
  };

  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number | undefined, task: () => Promise<unknown>) => {
    if (ms === 0) return;
    const timer = setInterval(() => {
      task().catch((error: unknown) => log.warn({ err: error }, 'bulk upload housekeeping failed; will retry'));
    }, ms);
    timer.unref();
    timers.push(timer);
  };
  // Uploads a previous run of this or another gateway left unfinished, then periodically.
  void resumeUnclaimed();
  every(settings.pollIntervalMs ?? 15_000, resumeUnclaimed);
  every(settings.cleanupIntervalMs ?? 60 * 60 * 1000, () => cleanup());

  return {
    kick,
    async idle() {
      while (running !== undefined) await running;
    },
    cleanup,
    async stop() {
      stopping = true;
      for (const timer of timers) clearInterval(timer);
      await running;
    },
  };
};
