import {
  bulkRequestId,
  type CertifyAckEvent,
  TEST_CSV_COLUMNS,
  TOPICS,
  VACCINATION_CSV_COLUMNS,
} from '@divoc/contracts';
import { createMetricsRegistry, silentLogger } from '@divoc/platform';
import type { BulkSettings } from '@divoc/vaccination-api';
import { createVaccinationApi, type VaccinationApi } from '@divoc/vaccination-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvLine, sampleVaccinationCsvRow } from '../../test-fixtures/index.js';
import { eventually, startTestSystem, type TestSystem } from './harness.js';

/**
 * Bulk certification by CSV upload, end to end (gateway → bus → signer → certify_ack → processor),
 * on the embedded adapters in `pnpm test` and on Kafka + Postgres in `pnpm test:infra`: a 10,000-row
 * file with 1% invalid rows, the same file twice, bad files, ownership and roles, a gateway stopped
 * mid-upload and resumed by another, a row the signer refuses, and the retention cleanup.
 */
type Json = Record<string, any>;
type Signer = Awaited<ReturnType<TestSystem['system']['make']['signer']>>;

let t: TestSystem;
let api: VaccinationApi;
let signer: Signer;
let stopAll: () => Promise<void>;
let admin: string;
let otherAdmin: string;
let staff: string;
const run = Date.now().toString(36).toUpperCase();
const DAY_MS = 24 * 60 * 60 * 1000;
const others: VaccinationApi[] = [];

const makeGateway = (bulk: BulkSettings = {}) =>
  createVaccinationApi({
    db: t.adapters.db,
    bus: t.adapters.bus,
    authenticator: t.adapters.authenticator,
    logger: silentLogger(),
    metrics: createMetricsRegistry('vaccination-api', { defaults: false }),
    vaccines: () => t.system.registry.get(t.system.keys.VACCINE_ICD),
    outboxSweepIntervalMs: 0,
    bulk: { pollIntervalMs: 0, cleanupIntervalMs: 0, ...bulk },
  });

beforeAll(async () => {
  t = await startTestSystem();
  api = await makeGateway();
  signer = await t.system.make.signer();
  const processor = await t.system.make.processor();
  await signer.start();
  await processor.start();
  stopAll = async () => {
    await processor.stop();
    await signer.stop();
    for (const gateway of [api, ...others]) await gateway.stop();
  };
  admin = await t.token(['facility-admin'], { username: 'bulk-admin-1' });
  otherAdmin = await t.token(['facility-admin'], { username: 'bulk-admin-2' });
  staff = await t.token(['facility-staff'], { username: 'bulk-staff' });
});

afterAll(async () => {
  await stopAll?.();
  await t?.close();
});

// ---------------------------------------------------------------------------------------------------
// CSV files

/** The shared sample row, with a quoted name and both date-of-birth spellings DIVOC accepted. */
const vaccinationRow = (code: string, index: number): Record<string, string> => ({
  ...sampleVaccinationCsvRow(code, index),
  recipientName: `Ananya "Anu" Raghavan ${index}`,
  recipientDOB: index % 2 === 0 ? '1990-05-17' : '17-May-1990',
});

/** Ways a row can be invalid, with the column and the words of the reason the error listing must give. */
const DEFECTS: { apply: (row: Record<string, string>) => void; field: string; reason: RegExp }[] = [
  {
    apply: (row) => {
      row.recipientMobileNumber = 'call me';
    },
    field: 'recipientMobileNumber',
    reason: /tel:/,
  },
  {
    apply: (row) => {
      row.recipientDOB = '31/12/1990';
    },
    field: 'recipientDOB',
    reason: /2006-01-02 or 02-Jan-2006/,
  },
  {
    apply: (row) => {
      row.vaccinationDose = '3';
    },
    field: 'vaccinationDose',
    reason: /not be greater than totalDoses/,
  },
  {
    apply: (row) => {
      row.recipientName = '';
    },
    field: 'recipientName',
    reason: /must not be empty/,
  },
  {
    apply: (row) => {
      row.vaccinationDate = '10/05/2021 09:30';
    },
    field: 'vaccinationDate',
    reason: /RFC 3339/,
  },
];

interface GeneratedCsv {
  content: Buffer;
  /** Line number → the defect of each invalid row. */
  invalid: Map<number, (typeof DEFECTS)[number]>;
  codes: string[];
}

/** `rows` vaccination rows (with a BOM and CRLF line ends, as Excel writes them); every 100th one invalid. */
const vaccinationCsv = (prefix: string, rows: number, { invalidEvery = 100 } = {}): GeneratedCsv => {
  const lines = [csvLine(VACCINATION_CSV_COLUMNS)];
  const invalid = new Map<number, (typeof DEFECTS)[number]>();
  const codes: string[] = [];
  for (let index = 0; index < rows; index++) {
    const code = `${prefix}-${index}`;
    const row = vaccinationRow(code, index);
    const line = index + 2;
    if (invalidEvery > 0 && index % invalidEvery === invalidEvery - 1) {
      const defect = DEFECTS[invalid.size % DEFECTS.length] as (typeof DEFECTS)[number];
      defect.apply(row);
      invalid.set(line, defect);
    } else {
      codes.push(code);
    }
    lines.push(csvLine(VACCINATION_CSV_COLUMNS.map((column) => row[column] ?? '')));
  }
  return { content: Buffer.from(`\ufeff${lines.join('\r\n')}\r\n`), invalid, codes };
};

const multipart = (content: Buffer, { field = 'file', filename = 'certificates.csv' } = {}) => {
  const boundary = `----divoc-${Math.random().toString(16).slice(2)}`;
  return {
    payload: Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: text/csv\r\n\r\n`,
      ),
      content,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]),
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
};

const upload = async (
  content: Buffer,
  { gateway = api, token = admin, kind = 'vaccination', field = 'file' } = {} as {
    gateway?: VaccinationApi;
    token?: string;
    kind?: 'vaccination' | 'test';
    field?: string;
  },
) => {
  const body = multipart(content, { field });
  const started = performance.now();
  const response = await gateway.http.inject({
    method: 'POST',
    url: kind === 'vaccination' ? '/divoc/api/v1/bulkCertify' : '/divoc/api/v1/test/bulkCertify',
    payload: body.payload,
    headers: { 'content-type': body.contentType, authorization: `Bearer ${token}` },
  });
  return { status: response.statusCode, body: response.json() as Json, ms: performance.now() - started };
};

const get = async (url: string, token = admin) => {
  const response = await api.http.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
  return { status: response.statusCode, body: response.json() as any };
};

const uploadsOf = async (kind: 'vaccination' | 'test' = 'vaccination', token = admin): Promise<Json[]> =>
  (await get(kind === 'vaccination' ? '/divoc/api/v1/certify/uploads' : '/divoc/api/v1/test/certify/uploads', token))
    .body;

const summaryOf = async (uploadId: string, kind: 'vaccination' | 'test' = 'vaccination') =>
  (await uploadsOf(kind)).find((entry) => entry.uploadId === uploadId) as Json;

/** Waits until the upload is completed (every valid row has an outcome); returns its summary. */
const completed = (uploadId: string, kind: 'vaccination' | 'test' = 'vaccination', timeoutMs = 100_000) =>
  eventually(
    async () => {
      const summary = await summaryOf(uploadId, kind);
      if (summary?.status === 'failed') throw new Error(`upload failed: ${summary.error}`);
      return summary?.status === 'completed' ? summary : undefined;
    },
    { timeoutMs, intervalMs: 100 },
  );

const count = async (sql: string, params: unknown[]) =>
  (await t.adapters.db.query<{ count: number }>(sql, params)).rows[0]?.count ?? 0;

const certificatesOf = (prefix: string) =>
  count(`SELECT count(*)::int AS count FROM certificates WHERE pre_enrollment_code LIKE $1 AND status = 'active'`, [
    `${prefix}-%`,
  ]);

// ---------------------------------------------------------------------------------------------------

describe('bulk certification by CSV upload', () => {
  const prefix = `BLK-${run}`;
  const file = vaccinationCsv(prefix, 10_000);
  let first: string;

  it('answers a 10,000-row upload at once, then issues every valid row exactly once and lists the invalid ones', async () => {
    const response = await upload(file.content);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body).toMatchObject({ status: 'processing', filename: 'certificates.csv' });
    first = response.body.uploadId;
    // Processing happens after the answer: nothing can have been signed yet.
    const right = await summaryOf(first);
    expect(right.status).toBe('processing');
    expect(right.counts.issued).toBeLessThan(9_900);

    const summary = await completed(first);
    expect(summary.counts).toEqual({
      total: 10_000,
      valid: 9_900,
      invalid: 100,
      issued: 9_900,
      duplicate: 0,
      failed: 0,
    });
    expect(summary.publishedAt).toBeDefined();
    expect(await certificatesOf(prefix)).toBe(9_900);
    expect(
      await count(
        `SELECT count(DISTINCT request_id)::int AS count FROM certificates WHERE pre_enrollment_code LIKE $1`,
        [`${prefix}-%`],
      ),
    ).toBe(9_900);

    // Each row is a request of the ledger, with its deterministic id.
    const ledger = await get(`/divoc/api/v1/requests/${bulkRequestId(first, 2)}`);
    expect(ledger.body).toMatchObject({ status: 'issued', preEnrollmentCode: `${prefix}-0`, dose: 1 });

    const errors = await get(`/divoc/api/v1/certify/uploads/${first}/errors`);
    expect(errors.status).toBe(200);
    expect(errors.body.columns).toEqual([...VACCINATION_CSV_COLUMNS, 'errors']);
    expect(errors.body.errorRows.map((row: Json) => row.row)).toEqual([...file.invalid.keys()]);
    for (const row of errors.body.errorRows as Json[]) {
      const defect = file.invalid.get(row.row);
      expect(row.status).toBe('invalid');
      expect(row.errors, `row ${row.row}`).toEqual([
        { field: defect?.field, reason: expect.stringMatching(defect?.reason as RegExp) },
      ]);
      // The original cells, as sent.
      expect(row.preEnrollmentCode).toBe(`${prefix}-${row.row - 2}`);
      expect(row.recipientName).toBe(defect?.field === 'recipientName' ? '' : `Ananya "Anu" Raghavan ${row.row - 2}`);
      expect(row.facilityName).toBe('PHC Koramangala, Bengaluru');
    }
    // Rows that became certificates keep no personal data.
    expect(
      await count(
        `SELECT count(*)::int AS count FROM upload_rows WHERE upload_id = $1 AND status = 'issued' AND cells IS NOT NULL`,
        [first],
      ),
    ).toBe(0);
    // The stored file is gone once every row is queued.
    expect(await count('SELECT count(*)::int AS count FROM upload_files WHERE upload_id = $1', [first])).toBe(0);
  }, 180_000);

  it('does not duplicate certificates when the same file is uploaded again', async () => {
    const response = await upload(file.content);
    expect(response.status).toBe(200);
    const second = response.body.uploadId as string;
    expect(second).not.toBe(first);
    const summary = await completed(second);
    expect(summary.counts).toEqual({
      total: 10_000,
      valid: 9_900,
      invalid: 100,
      issued: 0,
      duplicate: 9_900,
      failed: 0,
    });
    expect(await certificatesOf(prefix)).toBe(9_900);
    // Duplicates are not failures: the error listing has the invalid rows only.
    const errors = await get(`/divoc/api/v1/certify/uploads/${second}/errors?limit=40`);
    expect(errors.body.errorRows).toHaveLength(40);
    expect(errors.body.nextAfterRow).toBe(errors.body.errorRows[39].row);
    const rest = await get(`/divoc/api/v1/certify/uploads/${second}/errors?afterRow=${errors.body.nextAfterRow}`);
    expect(rest.body.errorRows).toHaveLength(60);
    expect(rest.body.nextAfterRow).toBeUndefined();
  }, 180_000);

  it('certifies test results from a CSV whose columns are in another order', async () => {
    const testPrefix = `BLKT-${run}`;
    const columns = [...TEST_CSV_COLUMNS].reverse();
    const rows = Array.from({ length: 20 }, (_, index) => {
      const row: Record<string, string> = {
        preEnrollmentCode: `${testPrefix}-${index}`,
        recipientName: `Rahul Menon ${index}`,
        recipientMobileNumber: '9000067890',
        recipientDOB: '02-Nov-1979',
        recipientGender: 'Male',
        recipientNationality: 'Indian',
        recipientIdentity: 'did:in.gov.uidai.aadhaar:000033334444',
        recipientAddressLine1: '7B, Marine Drive',
        recipientAddressLine2: '',
        recipientDistrict: 'Ernakulam',
        recipientState: 'Kerala',
        recipientPincode: '682031',
        testBatch: 'RTPCR-22-0119',
        disease: 'COVID-19',
        testName: 'SARS-CoV-2 RT-PCR',
        testType: 'RT-PCR',
        result: index === 7 ? 'Maybe' : 'Negative',
        resultTimestamp: '2021-06-02T14:20:00.000Z',
        manufacturer: 'Thermo Fisher Scientific',
        sampleCollectionTimestamp: '2021-06-01T08:45:00.000Z',
        sampleOrigin: 'Nasopharyngeal swab',
        verifier: 'Dr. Suresh Kumar',
        facilityName: 'District Hospital Ernakulam Testing Lab',
        facilityAddressLine1: 'Hospital Road',
        facilityAddressLine2: '',
        facilityDistrict: 'Ernakulam',
        facilityState: 'Kerala',
        facilityPincode: '682011',
      };
      return csvLine(columns.map((column) => row[column] ?? ''));
    });
    const response = await upload(Buffer.from([csvLine(columns), ...rows].join('\n')), { kind: 'test' });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    const summary = await completed(response.body.uploadId, 'test');
    expect(summary.counts).toMatchObject({ total: 20, valid: 19, invalid: 1, issued: 19 });
    expect(
      await count(
        `SELECT count(*)::int AS count FROM certificates WHERE pre_enrollment_code LIKE $1 AND kind = 'test'`,
        [`${testPrefix}-%`],
      ),
    ).toBe(19);
    const errors = await get(`/divoc/api/v1/test/certify/uploads/${response.body.uploadId}/errors`);
    expect(errors.body.columns).toEqual([...columns, 'errors']);
    expect(errors.body.errorRows).toEqual([
      expect.objectContaining({
        row: 9,
        status: 'invalid',
        result: 'Maybe',
        errors: [{ field: 'result', reason: 'must be one of Positive, Negative, Inconclusive, Void' }],
      }),
    ]);
    // A test upload is not a vaccination upload.
    expect((await get(`/divoc/api/v1/certify/uploads/${response.body.uploadId}/errors`)).status).toBe(404);
  }, 60_000);

  describe('refuses bad files with 400 saying what is wrong, and queues nothing of them', () => {
    const header = csvLine(VACCINATION_CSV_COLUMNS);
    const goodRow = csvLine(VACCINATION_CSV_COLUMNS.map((column) => vaccinationRow(`BAD-${run}`, 1)[column] ?? ''));
    const expectRejected = async (response: Awaited<ReturnType<typeof upload>>, code: string, message: RegExp) => {
      expect(response.status, JSON.stringify(response.body)).toBe(400);
      expect(response.body.code).toBe(code);
      expect(response.body.message).toMatch(message);
    };

    it('a wrong header names the missing and the unknown columns', async () => {
      const wrong = header.replace('recipientName', 'name').replace(',facilityPincode', '');
      const response = await upload(Buffer.from(`${wrong}\n${goodRow}\n`));
      await expectRejected(
        response,
        'INVALID_TEMPLATE',
        /missing columns: recipientName, facilityPincode; unknown columns: name/,
      );
    });

    it('a file that is not UTF-8 (Windows-1252) names the line', async () => {
      const latin1 = Buffer.from(`${header}\n${goodRow.replace('Ananya', 'Ren\u00e9e')}\n`, 'latin1');
      await expectRejected(await upload(latin1), 'NOT_UTF8', /not UTF-8 .*line 2.*CSV UTF-8/);
    });

    it('a UTF-16 file', async () => {
      const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${header}\n${goodRow}\n`, 'utf16le')]);
      await expectRejected(await upload(utf16), 'NOT_UTF8', /UTF-16/);
    });

    it('an empty file, and a header without rows', async () => {
      await expectRejected(await upload(Buffer.alloc(0)), 'EMPTY_FILE', /the file is empty/);
      await expectRejected(await upload(Buffer.from(`\ufeff${header}\r\n\r\n`)), 'NO_ROWS', /no data rows/);
    });

    it('a PNG image', async () => {
      const png = Buffer.concat([
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        Buffer.from('0000000d49484452000000010000000108060000001f15c489', 'hex'),
      ]);
      await expectRejected(await upload(png), 'NOT_CSV', /not a CSV text file: it looks like a PNG image/);
    });

    it('a file over the size limit (BULK_UPLOAD_MAX_BYTES), detected while it streams in', async () => {
      const small = await makeGateway({ maxBytes: 4096 });
      others.push(small);
      const big = vaccinationCsv(`BIG-${run}`, 20, { invalidEvery: 0 });
      expect(big.content.length).toBeGreaterThan(4096);
      const response = await upload(big.content, { gateway: small });
      await expectRejected(response, 'FILE_TOO_LARGE', /larger than the limit of 4 KB/);
      expect(await certificatesOf(`BIG-${run}`)).toBe(0);
    });

    it('a request that is not multipart, or without the field "file"', async () => {
      const json = await api.http.inject({
        method: 'POST',
        url: '/divoc/api/v1/bulkCertify',
        payload: { file: 'x' },
        headers: { authorization: `Bearer ${admin}` },
      });
      expect(json.statusCode).toBe(400);
      expect(json.json()).toMatchObject({ code: 'MISSING_FILE' });
      await expectRejected(
        await upload(Buffer.from(`${header}\n${goodRow}\n`), { field: 'csv' }),
        'MISSING_FILE',
        /"file"/,
      );
    });

    it('keeps the rejected uploads with their reason but no file, rows or requests', async () => {
      const rejected = (await uploadsOf()).filter((entry) => entry.status === 'rejected');
      expect(rejected.map((entry) => entry.error)).toEqual(
        expect.arrayContaining([expect.stringMatching(/header does not match/), expect.stringMatching(/UTF-16/)]),
      );
      const ids = rejected.map((entry) => entry.uploadId);
      expect(await count('SELECT count(*)::int AS count FROM upload_files WHERE upload_id = ANY($1)', [ids])).toBe(0);
      expect(await count('SELECT count(*)::int AS count FROM upload_rows WHERE upload_id = ANY($1)', [ids])).toBe(0);
      expect(await certificatesOf(`BAD-${run}`)).toBe(0);
    });

    it('a file whose CSV quoting is broken fails as a whole, before any row is queued', async () => {
      const broken = Buffer.from(
        `${header}\n${goodRow}\n${goodRow.replace('12, Temple Street', '12, Temple "Street')}\n"unclosed,x\n`,
      );
      const response = await upload(broken);
      expect(response.status).toBe(200);
      const summary = await eventually(async () => {
        const entry = await summaryOf(response.body.uploadId);
        return entry?.status === 'failed' ? entry : undefined;
      });
      expect(summary.error).toMatch(/not valid CSV: .*line/);
      expect(summary.counts.valid).toBe(0);
      expect(await certificatesOf(`BAD-${run}`)).toBe(0);
    });
  });

  it('documents the bulk endpoints in the OpenAPI document', async () => {
    const response = await api.http.inject({ method: 'GET', url: '/docs/json' });
    expect(response.statusCode).toBe(200);
    const paths = (response.json() as Json).paths as Json;
    expect(Object.keys(paths)).toEqual(
      expect.arrayContaining([
        '/divoc/api/v1/bulkCertify',
        '/divoc/api/v1/test/bulkCertify',
        '/divoc/api/v1/certify/uploads',
        '/divoc/api/v1/certify/uploads/{uploadId}/errors',
        '/divoc/api/v1/test/certify/uploads',
        '/divoc/api/v1/test/certify/uploads/{uploadId}/errors',
      ]),
    );
  });

  describe('access', () => {
    it('shows an upload to its owner only: 403 for another admin, 404 for an unknown upload', async () => {
      expect((await get(`/divoc/api/v1/certify/uploads/${first}/errors`, otherAdmin)).status).toBe(403);
      expect((await uploadsOf('vaccination', otherAdmin)).map((entry) => entry.uploadId)).not.toContain(first);
      expect((await get('/divoc/api/v1/certify/uploads/0190ffff-0000-7000-8000-000000000000/errors')).status).toBe(404);
    });

    it('needs the facility-admin role: facility-staff gets 403, no token 401', async () => {
      const csv = vaccinationCsv(`ROLE-${run}`, 2, { invalidEvery: 0 }).content;
      expect((await upload(csv, { token: staff })).status).toBe(403);
      expect((await get('/divoc/api/v1/certify/uploads', staff)).status).toBe(403);
      expect((await get(`/divoc/api/v1/certify/uploads/${first}/errors`, staff)).status).toBe(403);
      const anonymous = await api.http.inject({ method: 'GET', url: '/divoc/api/v1/test/certify/uploads' });
      expect(anonymous.statusCode).toBe(401);
    });
  });

  it('resumes an upload on another gateway when the one processing it stops, queuing every row once', async () => {
    const resumePrefix = `RES-${run}`;
    const csv = vaccinationCsv(resumePrefix, 3_000, { invalidEvery: 50 });
    const leaving = await makeGateway({ chunkRows: 100 });
    const response = await upload(csv.content, { gateway: leaving });
    expect(response.status).toBe(200);
    const uploadId = response.body.uploadId as string;
    // Stopping finishes the chunk in progress (the first) and hands the upload back.
    await leaving.stop();
    const stopped = await summaryOf(uploadId);
    expect(stopped.status).toBe('processing');
    expect(stopped.publishedAt).toBeUndefined();
    expect(stopped.counts.valid + stopped.counts.invalid).toBe(100);

    // The next gateway to start picks it up where the last committed chunk ended.
    const successor = await makeGateway({ chunkRows: 500 });
    others.push(successor);
    const summary = await completed(uploadId);
    expect(summary.counts).toEqual({ total: 3_000, valid: 2_940, invalid: 60, issued: 2_940, duplicate: 0, failed: 0 });
    expect(await count('SELECT count(*)::int AS count FROM upload_rows WHERE upload_id = $1', [uploadId])).toBe(3_000);
    expect(
      await count('SELECT count(*)::int AS count FROM requests WHERE request_id LIKE $1', [`${uploadId}.r%`]),
    ).toBe(2_940);
    expect(await certificatesOf(resumePrefix)).toBe(2_940);
    // A finished upload is never processed again.
    successor.bulk.kick(uploadId);
    await successor.bulk.idle();
    expect((await summaryOf(uploadId)).counts.valid).toBe(2_940);
  }, 180_000);

  it('counts a row the signer refuses as failed, with its reason and cells, until a replay issues it', async () => {
    const failPrefix = `FAIL-${run}`;
    const csv = vaccinationCsv(failPrefix, 3, { invalidEvery: 0 });
    await signer.stop();
    const response = await upload(csv.content);
    const uploadId = response.body.uploadId as string;
    await eventually(async () => ((await summaryOf(uploadId)).publishedAt ? true : undefined));
    // What the signer acknowledges for a request it cannot sign (e.g. a vaccine without an ICD-11 code).
    const ack: CertifyAckEvent = {
      requestId: bulkRequestId(uploadId, 3),
      preEnrollmentCode: `${failPrefix}-1`,
      status: 'failed',
      error: 'vaccine "Covishield" is not listed in the etcd key VACCINE_ICD',
      upload: { uploadId, row: 3 },
      at: new Date().toISOString(),
    };
    await t.adapters.bus.publish(TOPICS.certifyAck, [{ key: ack.preEnrollmentCode, value: JSON.stringify(ack) }]);
    await eventually(async () => ((await summaryOf(uploadId)).counts.failed === 1 ? true : undefined));
    const failed = await get(`/divoc/api/v1/certify/uploads/${uploadId}/errors`);
    expect(failed.body.errorRows).toEqual([
      expect.objectContaining({
        row: 3,
        status: 'failed',
        preEnrollmentCode: `${failPrefix}-1`,
        recipientName: 'Ananya "Anu" Raghavan 1',
        errors: [{ field: '(row)', reason: ack.error }],
      }),
    ]);
    // A redelivered failure counts once.
    await t.adapters.bus.publish(TOPICS.certifyAck, [{ key: ack.preEnrollmentCode, value: JSON.stringify(ack) }]);
    // The cause fixed and the request signed after all (as a dead-letter replay does): the row is issued.
    signer = await t.system.make.signer();
    await signer.start();
    const summary = await completed(uploadId);
    expect(summary.counts).toMatchObject({ valid: 3, issued: 3, failed: 0, duplicate: 0 });
    expect((await get(`/divoc/api/v1/certify/uploads/${uploadId}/errors`)).body.errorRows).toEqual([]);
    expect(await certificatesOf(failPrefix)).toBe(3);
  }, 60_000);

  it('deletes the cells of failed rows after the retention period, keeping row numbers and reasons', async () => {
    expect(await api.bulk.cleanup(new Date(Date.now() + 29 * DAY_MS))).toBe(0);
    expect(await api.bulk.cleanup(new Date(Date.now() + 31 * DAY_MS))).toBeGreaterThan(0);
    expect(await count('SELECT count(*)::int AS count FROM upload_rows WHERE cells IS NOT NULL', [])).toBe(0);
    const errors = await get(`/divoc/api/v1/certify/uploads/${first}/errors`);
    expect(errors.body.cellsRemovedAt).toBeDefined();
    expect(errors.body.errorRows).toHaveLength(100);
    for (const row of errors.body.errorRows as Json[]) {
      expect(Object.keys(row).sort()).toEqual(['errors', 'row', 'status']);
      expect(row.errors[0].field).toBe(file.invalid.get(row.row)?.field);
    }
    expect((await summaryOf(first)).cellsRemovedAt).toBeDefined();
  });
});
