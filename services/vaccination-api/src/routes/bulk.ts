import { basename } from 'node:path';
import {
  type CertificateKind,
  csvColumnsFor,
  ErrorEnvelope,
  UploadAccepted,
  UploadErrors,
  UploadSummary,
} from '@divoc/contracts';
import { type Database, forbidden, type HttpApp, HttpError, notFound, type Principal, uuidv7 } from '@divoc/platform';
import {
  appendUploadFile,
  createUpload,
  findUpload,
  listUploadErrors,
  listUploads,
  markUploadReceived,
  rejectUpload,
  type UploadRecord,
} from '@divoc/store';
import multipart, { type MultipartFile } from '@fastify/multipart';
import { z } from 'zod';
import { BadFile, CsvUploadInspector } from '../bulk/inspect.js';
import type { BulkWorker } from '../bulk/worker.js';

/** The stored file is written in pieces of about this size (one row of `upload_files` each). */
const FILE_CHUNK_BYTES = 1024 * 1024;
const MiB = 1024 * 1024;

export interface BulkRouteDeps {
  db: Database;
  worker: BulkWorker;
  /** BULK_UPLOAD_MAX_BYTES. */
  maxBytes: number;
}

/** What the upload handler needs of a Fastify request (with @fastify/multipart registered). */
interface UploadRequest {
  principal?: Principal | undefined;
  isMultipart(): boolean;
  file(): Promise<MultipartFile | undefined>;
  log: { info(details: object, message: string): void };
}

const describeSize = (bytes: number) =>
  bytes >= MiB ? `${Math.round((bytes / MiB) * 10) / 10} MB` : `${Math.round(bytes / 1024)} KB`;

const summary = (upload: UploadRecord): UploadSummary => ({
  uploadId: upload.id,
  kind: upload.kind,
  filename: upload.filename,
  status: upload.status,
  ...(upload.error === null ? {} : { error: upload.error }),
  bytes: upload.bytes,
  counts: {
    total: upload.totalRows,
    valid: upload.validRows,
    invalid: upload.invalidRows,
    issued: upload.issuedRows,
    duplicate: upload.duplicateRows,
    failed: upload.failedRows,
  },
  receivedAt: (upload.receivedAt ?? upload.createdAt).toISOString(),
  ...(upload.publishedAt === null ? {} : { publishedAt: upload.publishedAt.toISOString() }),
  ...(upload.completedAt === null ? {} : { completedAt: upload.completedAt.toISOString() }),
  ...(upload.cellsRemovedAt === null ? {} : { cellsRemovedAt: upload.cellsRemovedAt.toISOString() }),
});

/**
 * POST /v1/bulkCertify and /v1/test/bulkCertify (multipart, field `file`), and the upload listings
 * (decision 0013). The upload is checked while it streams in — signature, encoding, header (at the
 * first line), size — and stored in the database in pieces; the answer comes as soon as the file is
 * stored, and the rows are processed by the bulk worker.
 */
export const registerBulkRoutes = async (app: HttpApp, { db, worker, maxBytes }: BulkRouteDeps): Promise<void> => {
  await app.register(multipart, {
    limits: { fileSize: maxBytes, files: 1, fields: 10, parts: 20, fieldSize: 1024 },
    throwFileSizeLimit: true,
  });
  const tooLarge = () =>
    new BadFile(
      'FILE_TOO_LARGE',
      `the file is larger than the limit of ${describeSize(maxBytes)} (BULK_UPLOAD_MAX_BYTES); split it into smaller files`,
    );

  const receive = async (request: UploadRequest, kind: CertificateKind) => {
    const principal = request.principal as NonNullable<typeof request.principal>;
    const noFile = () =>
      new HttpError(400, 'MISSING_FILE', 'send the CSV as multipart/form-data, the file in the form field "file"');
    if (!request.isMultipart()) throw noFile();
    const part = await request.file();
    if (part === undefined) throw noFile();
    if (part.fieldname !== 'file') {
      part.file.resume();
      throw noFile();
    }
    const filename = basename(part.filename || 'upload.csv').slice(0, 255);
    const uploadId = uuidv7();
    await createUpload(db, { id: uploadId, kind, filename, actor: principal.actor });
    const inspector = new CsvUploadInspector(kind);
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let seq = 0;
    const store = async () => {
      if (pendingBytes === 0) return;
      const piece = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      await appendUploadFile(db, uploadId, seq++, piece);
    };
    try {
      for await (const chunk of part.file as AsyncIterable<Buffer>) {
        inspector.push(chunk);
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= FILE_CHUNK_BYTES) await store();
      }
      if (part.file.truncated) throw tooLarge();
      const { columns } = inspector.end();
      await store();
      await markUploadReceived(db, uploadId, { bytes: inspector.bytes, columns });
    } catch (caught) {
      const code = (caught as { code?: string }).code;
      const bad = caught instanceof BadFile ? caught : code === 'FST_REQ_FILE_TOO_LARGE' ? tooLarge() : undefined;
      // Rejected or interrupted, nothing was queued: only the reason is kept (the file is deleted).
      const reason = bad?.message ?? 'the transfer of the file failed';
      await rejectUpload(db, uploadId, reason, inspector.bytes).catch(() => undefined);
      if (bad === undefined) throw caught;
      request.log.info({ uploadId, code: bad.code }, 'bulk upload rejected');
      throw new HttpError(400, bad.code, bad.message);
    }
    worker.kick(uploadId);
    return { uploadId, status: 'processing' as const, filename };
  };

  const ownUpload = async (
    request: { principal?: { actor: string } | undefined },
    uploadId: string,
    kind: CertificateKind,
  ): Promise<UploadRecord> => {
    const upload = await findUpload(db, uploadId);
    if (upload === undefined || upload.kind !== kind) throw notFound(`no upload ${uploadId}`);
    // DIVOC's rule: 404 for an unknown upload, 403 for someone else's.
    if (upload.actor !== request.principal?.actor) throw forbidden('this upload belongs to another user');
    return upload;
  };

  for (const kind of ['vaccination', 'test'] as const) {
    const base = kind === 'vaccination' ? '/divoc/api/v1' : '/divoc/api/v1/test';
    const what = kind === 'vaccination' ? 'vaccination' : 'test';
    app.post(
      `${base}/bulkCertify`,
      {
        schema: {
          summary: `Certify ${what}s from a CSV file`,
          description: [
            `multipart/form-data with the CSV in the form field "file": UTF-8 (a BOM is fine), comma-separated, the header`,
            `row naming DIVOC's ${what} columns in any order (${csvColumnsFor(kind).join(', ')}).`,
            'The header, encoding and size are checked while the file is received (400 says what is wrong);',
            'the answer comes once the file is stored, and its rows are then certified in the background.',
          ].join(' '),
          tags: ['bulk'],
          security: [{ bearer: [] }],
          consumes: ['multipart/form-data'],
          response: { 200: UploadAccepted, 400: ErrorEnvelope, 401: ErrorEnvelope, 403: ErrorEnvelope },
        },
      },
      async (request) => receive(request, kind),
    );

    app.get(
      `${base}/certify/uploads`,
      {
        schema: {
          summary: `Your ${what} CSV uploads, newest first, with their progress`,
          tags: ['bulk'],
          security: [{ bearer: [] }],
          querystring: z.object({
            limit: z.coerce.number().int().min(1).max(500).default(100),
            offset: z.coerce.number().int().min(0).default(0),
          }),
          response: { 200: z.array(UploadSummary), 401: ErrorEnvelope, 403: ErrorEnvelope },
        },
      },
      async (request) => {
        const principal = request.principal as NonNullable<typeof request.principal>;
        const uploads = await listUploads(db, { actor: principal.actor, kind, ...request.query });
        return uploads.map(summary);
      },
    );

    app.get(
      `${base}/certify/uploads/:uploadId/errors`,
      {
        schema: {
          summary: `The rows of one of your ${what} uploads that did not become certificates, with the reasons`,
          description:
            'Invalid rows (refused by validation) and failed rows (refused by the signer), in row order, each with its cells (until the retention period ends) and errors ({field, reason}). Rows are numbered by the line they start on (the header is line 1).',
          tags: ['bulk'],
          security: [{ bearer: [] }],
          params: z.object({ uploadId: z.string().min(1).max(64) }),
          querystring: z.object({
            afterRow: z.coerce.number().int().min(0).default(0),
            limit: z.coerce.number().int().min(1).max(10_000).default(10_000),
          }),
          response: { 200: UploadErrors, 401: ErrorEnvelope, 403: ErrorEnvelope, 404: ErrorEnvelope },
        },
      },
      async (request) => {
        const upload = await ownUpload(request, request.params.uploadId, kind);
        const columns = upload.columns ?? [...csvColumnsFor(kind)];
        const { afterRow, limit } = request.query;
        const rows = await listUploadErrors(db, upload.id, { afterRow, limit: limit + 1 });
        const page = rows.slice(0, limit);
        return {
          columns: [...columns, 'errors'],
          errorRows: page.map((row) => {
            const cells: Record<string, string> = {};
            if (row.cells !== null) {
              columns.forEach((column, index) => {
                cells[column] = row.cells?.[index] ?? '';
              });
            }
            // The cells sit beside row, status and errors (DIVOC's flat rows; no column has those names).
            return {
              ...cells,
              row: row.row,
              status: row.status,
              errors: row.errors,
            } as UploadErrors['errorRows'][number];
          }),
          ...(rows.length > limit ? { nextAfterRow: (page[page.length - 1] as { row: number }).row } : {}),
          ...(upload.cellsRemovedAt === null ? {} : { cellsRemovedAt: upload.cellsRemovedAt.toISOString() }),
        };
      },
    );
  }
};
