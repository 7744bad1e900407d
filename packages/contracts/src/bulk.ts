import { z } from 'zod';
import { toFieldErrors } from './errors.js';
import type { CertificateKind } from './events.js';
import { CertificationRequest, TestCertificationRequest } from './requests.js';

/**
 * Bulk certification by CSV upload (POST /divoc/api/v1/bulkCertify and /v1/test/bulkCertify): DIVOC's
 * column templates, and how one CSV row becomes the certify request the API would have received — so a
 * row is validated by exactly the schema of POST /v1/certify (v1 payload) or /v1/test/certify.
 */

/** DIVOC's `certificate.upload.columns` (test-fixtures/public/divoc/certificates.csv), in its order. */
export const VACCINATION_CSV_COLUMNS = [
  'preEnrollmentCode',
  'recipientName',
  'recipientMobileNumber',
  'recipientDOB',
  'recipientAge',
  'recipientGender',
  'recipientNationality',
  'recipientIdentity',
  'recipientAddressLine1',
  'recipientAddressLine2',
  'recipientDistrict',
  'recipientState',
  'recipientPincode',
  'vaccinationBatch',
  'vaccinationDate',
  'vaccinationDose',
  'vaccinationTotalDoses',
  'vaccinationEffectiveStart',
  'vaccinationEffectiveEnd',
  'vaccinationManufacturer',
  'vaccinationName',
  'vaccinatorName',
  'facilityName',
  'facilityAddressLine1',
  'facilityAddressLine2',
  'facilityDistrict',
  'facilityState',
  'facilityPincode',
] as const;

/** DIVOC's `testcertificate.upload.columns` (test-fixtures/public/divoc/testCertificates.csv), in its order. */
export const TEST_CSV_COLUMNS = [
  'preEnrollmentCode',
  'recipientName',
  'recipientMobileNumber',
  'recipientDOB',
  'recipientGender',
  'recipientNationality',
  'recipientIdentity',
  'recipientAddressLine1',
  'recipientAddressLine2',
  'recipientDistrict',
  'recipientState',
  'recipientPincode',
  'testBatch',
  'disease',
  'testName',
  'testType',
  'result',
  'resultTimestamp',
  'manufacturer',
  'sampleCollectionTimestamp',
  'sampleOrigin',
  'verifier',
  'facilityName',
  'facilityAddressLine1',
  'facilityAddressLine2',
  'facilityDistrict',
  'facilityState',
  'facilityPincode',
] as const;

export const csvColumnsFor = (kind: CertificateKind): readonly string[] =>
  kind === 'vaccination' ? VACCINATION_CSV_COLUMNS : TEST_CSV_COLUMNS;

/**
 * Columns a vaccination file may leave out: DIVOC accepted a header with either `recipientAge` or
 * `recipientDOB` (a row needs one of the two values anyway).
 */
const OPTIONAL_COLUMNS: Record<CertificateKind, readonly string[][]> = {
  vaccination: [['recipientAge', 'recipientDOB']],
  test: [],
};

export type HeaderCheck =
  | { ok: true; columns: string[] }
  | { ok: false; missing: string[]; unknown: string[]; duplicated: string[]; message: string };

/**
 * Checks a header row against the template of `kind`: every column once, in any order, nothing else
 * (names are compared exactly, after trimming spaces around them).
 */
export const checkCsvHeader = (kind: CertificateKind, header: readonly string[]): HeaderCheck => {
  const columns = header.map((name) => name.trim());
  const template = csvColumnsFor(kind);
  const known = new Set(template);
  const seen = new Set<string>();
  const duplicated = new Set<string>();
  for (const column of columns) {
    if (seen.has(column)) duplicated.add(column);
    seen.add(column);
  }
  const unknown = columns.filter((column) => !known.has(column));
  let missing = template.filter((column) => !seen.has(column));
  for (const group of OPTIONAL_COLUMNS[kind]) {
    // One of the group is enough.
    if (group.some((column) => seen.has(column))) missing = missing.filter((column) => !group.includes(column));
  }
  if (missing.length === 0 && unknown.length === 0 && duplicated.size === 0) return { ok: true, columns };
  const parts = [
    missing.length > 0 ? `missing columns: ${missing.join(', ')}` : '',
    unknown.length > 0
      ? `unknown columns: ${unknown.map((column) => (column === '' ? '(empty)' : column)).join(', ')}`
      : '',
    duplicated.size > 0 ? `repeated columns: ${[...duplicated].join(', ')}` : '',
  ].filter(Boolean);
  const hint = columns.length === 1 && /[;\t]/.test(columns[0] ?? '') ? ' (columns must be separated by commas)' : '';
  return {
    ok: false,
    missing,
    unknown,
    duplicated: [...duplicated],
    message: `the CSV header does not match the ${kind} template: ${parts.join('; ')}${hint}. Expected these columns in any order: ${template.join(',')}`,
  };
};

/** One problem with one CSV row: the column (or `(row)` for the row as a whole) and what is wrong. */
export const RowError = z.object({ field: z.string(), reason: z.string() });
export type RowError = z.infer<typeof RowError>;

export type RowConversion =
  | { ok: true; payload: CertificationRequest | TestCertificationRequest; preEnrollmentCode: string; dose?: number }
  | { ok: false; errors: RowError[] };

const MONTHS: Record<string, number> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  oct: 10,
  nov: 11,
  dec: 12,
};

/**
 * A CSV date as DIVOC read it: `2006-01-02` or `02-Jan-2006` → `YYYY-MM-DD`; undefined when it is in
 * neither form (the day itself is checked by the request schema).
 */
export const csvDate = (value: string): string | undefined => {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return value;
  const match = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(value);
  const month = match ? MONTHS[(match[2] as string).toLowerCase()] : undefined;
  if (!match || month === undefined) return undefined;
  return `${match[3]}-${String(month).padStart(2, '0')}-${(match[1] as string).padStart(2, '0')}`;
};

const DATE_FORMS = 'must be a date in the form 2006-01-02 or 02-Jan-2006';

/** Reads the cells of one row by column name; conversion problems are collected per column. */
class RowReader {
  readonly errors = new Map<string, string>();
  constructor(private readonly cells: Readonly<Record<string, string>>) {}

  /** The trimmed cell ('' when empty or absent). */
  text(column: string): string {
    return (this.cells[column] ?? '').trim();
  }

  /** The cell, or undefined when it is empty (optional fields are left out of the request). */
  optional(column: string): string | undefined {
    const value = this.text(column);
    return value === '' ? undefined : value;
  }

  date(column: string): string | undefined {
    const value = this.optional(column);
    if (value === undefined) return undefined;
    const date = csvDate(value);
    if (date === undefined) this.errors.set(column, DATE_FORMS);
    return date;
  }

  number(column: string): number | undefined {
    const value = this.optional(column);
    if (value === undefined) return undefined;
    if (!/^[+-]?\d+(\.\d+)?$/.test(value)) {
      this.errors.set(column, 'must be a number');
      return undefined;
    }
    return Number(value);
  }

  /** `recipientMobileNumber` → `["tel:<number>"]` (spaces and dashes inside the number are dropped). */
  contact(column: string): string[] {
    const value = this.text(column).replace(/[\s-]/g, '');
    return value === '' ? [] : [`tel:${value}`];
  }
}

const address = (read: RowReader, prefix: 'recipient' | 'facility') => ({
  addressLine1: read.text(`${prefix}AddressLine1`),
  ...(read.optional(`${prefix}AddressLine2`) === undefined ? {} : { addressLine2: read.text(`${prefix}AddressLine2`) }),
  district: read.text(`${prefix}District`),
  state: read.text(`${prefix}State`),
  pincode: read.text(`${prefix}Pincode`),
});

const hasAddress = (read: RowReader, prefix: 'recipient' | 'facility') =>
  ['AddressLine1', 'AddressLine2', 'District', 'State', 'Pincode'].some(
    (part) => read.optional(`${prefix}${part}`) !== undefined,
  );

/** DIVOC's column mapping for a vaccination row (certify_handler.go), as a v1 CertificationRequest. */
const vaccinationRequest = (read: RowReader) => {
  const dob = read.date('recipientDOB');
  const age = read.optional('recipientAge');
  const batch = read.optional('vaccinationBatch');
  return {
    preEnrollmentCode: read.text('preEnrollmentCode'),
    recipient: {
      name: read.text('recipientName'),
      ...(dob === undefined ? {} : { dob }),
      ...(age === undefined ? {} : { age }),
      gender: read.text('recipientGender'),
      nationality: read.text('recipientNationality'),
      identity: read.text('recipientIdentity'),
      contact: read.contact('recipientMobileNumber'),
      address: address(read, 'recipient'),
    },
    vaccination: {
      name: read.text('vaccinationName'),
      ...(batch === undefined ? {} : { batch }),
      manufacturer: read.text('vaccinationManufacturer'),
      date: read.text('vaccinationDate'),
      effectiveStart: read.date('vaccinationEffectiveStart'),
      effectiveUntil: read.date('vaccinationEffectiveEnd'),
      dose: read.number('vaccinationDose'),
      totalDoses: read.number('vaccinationTotalDoses'),
    },
    vaccinator: { name: read.text('vaccinatorName') },
    facility: { name: read.text('facilityName'), address: address(read, 'facility') },
  };
};

/** DIVOC's column mapping for a test row (test_certify_handler.go), as a TestCertificationRequest. */
const testRequest = (read: RowReader) => {
  const optional = (column: string, field: string) => {
    const value = read.optional(column);
    return value === undefined ? {} : { [field]: value };
  };
  const verifier = read.optional('verifier');
  return {
    preEnrollmentCode: read.text('preEnrollmentCode'),
    recipient: {
      name: read.text('recipientName'),
      dob: read.date('recipientDOB'),
      gender: read.text('recipientGender'),
      ...optional('recipientNationality', 'nationality'),
      identity: read.text('recipientIdentity'),
      contact: read.contact('recipientMobileNumber'),
      ...(hasAddress(read, 'recipient') ? { address: address(read, 'recipient') } : {}),
    },
    testDetails: {
      ...optional('testName', 'testName'),
      testType: read.text('testType'),
      disease: read.text('disease'),
      ...optional('testBatch', 'batch'),
      ...optional('manufacturer', 'manufacturer'),
      ...optional('sampleOrigin', 'sampleOrigin'),
      sampleCollectionTimestamp: read.text('sampleCollectionTimestamp'),
      resultTimestamp: read.text('resultTimestamp'),
      result: read.text('result'),
    },
    ...(verifier === undefined ? {} : { verifier: { name: verifier } }),
    facility: { name: read.text('facilityName'), address: address(read, 'facility') },
  };
};

/** Request field path (array indexes dropped) → the CSV column it came from. */
const COLUMN_OF_PATH: Record<CertificateKind, Record<string, string>> = {
  vaccination: {
    preEnrollmentCode: 'preEnrollmentCode',
    'recipient.name': 'recipientName',
    'recipient.contact': 'recipientMobileNumber',
    'recipient.dob': 'recipientDOB',
    'recipient.age': 'recipientAge',
    'recipient.gender': 'recipientGender',
    'recipient.nationality': 'recipientNationality',
    'recipient.identity': 'recipientIdentity',
    'recipient.address.addressLine1': 'recipientAddressLine1',
    'recipient.address.addressLine2': 'recipientAddressLine2',
    'recipient.address.district': 'recipientDistrict',
    'recipient.address.state': 'recipientState',
    'recipient.address.pincode': 'recipientPincode',
    'vaccination.batch': 'vaccinationBatch',
    'vaccination.date': 'vaccinationDate',
    'vaccination.dose': 'vaccinationDose',
    'vaccination.totalDoses': 'vaccinationTotalDoses',
    'vaccination.effectiveStart': 'vaccinationEffectiveStart',
    'vaccination.effectiveUntil': 'vaccinationEffectiveEnd',
    'vaccination.manufacturer': 'vaccinationManufacturer',
    'vaccination.name': 'vaccinationName',
    'vaccinator.name': 'vaccinatorName',
    'facility.name': 'facilityName',
    'facility.address.addressLine1': 'facilityAddressLine1',
    'facility.address.addressLine2': 'facilityAddressLine2',
    'facility.address.district': 'facilityDistrict',
    'facility.address.state': 'facilityState',
    'facility.address.pincode': 'facilityPincode',
  },
  test: {
    preEnrollmentCode: 'preEnrollmentCode',
    'recipient.name': 'recipientName',
    'recipient.contact': 'recipientMobileNumber',
    'recipient.dob': 'recipientDOB',
    'recipient.gender': 'recipientGender',
    'recipient.nationality': 'recipientNationality',
    'recipient.identity': 'recipientIdentity',
    'recipient.address.addressLine1': 'recipientAddressLine1',
    'recipient.address.addressLine2': 'recipientAddressLine2',
    'recipient.address.district': 'recipientDistrict',
    'recipient.address.state': 'recipientState',
    'recipient.address.pincode': 'recipientPincode',
    'testDetails.batch': 'testBatch',
    'testDetails.disease': 'disease',
    'testDetails.testName': 'testName',
    'testDetails.testType': 'testType',
    'testDetails.result': 'result',
    'testDetails.resultTimestamp': 'resultTimestamp',
    'testDetails.manufacturer': 'manufacturer',
    'testDetails.sampleCollectionTimestamp': 'sampleCollectionTimestamp',
    'testDetails.sampleOrigin': 'sampleOrigin',
    'verifier.name': 'verifier',
    'facility.name': 'facilityName',
    'facility.address.addressLine1': 'facilityAddressLine1',
    'facility.address.addressLine2': 'facilityAddressLine2',
    'facility.address.district': 'facilityDistrict',
    'facility.address.state': 'facilityState',
    'facility.address.pincode': 'facilityPincode',
  },
};

/** The CSV column a request field came from; the field path itself when no single column maps to it. */
export const csvColumnOfPath = (kind: CertificateKind, path: string): string =>
  COLUMN_OF_PATH[kind][path.replace(/\[\d+\]/g, '')] ?? path;

/**
 * Turns one CSV row (cells by column name) into the request the certify API takes, validated by the
 * API's own schema. Errors name the CSV column — one reason per column — and never repeat the cell's
 * value (they outlive it: the cells are deleted after the retention period, the reasons are kept).
 */
export const csvRowToRequest = (kind: CertificateKind, cells: Readonly<Record<string, string>>): RowConversion => {
  const read = new RowReader(cells);
  const candidate = kind === 'vaccination' ? vaccinationRequest(read) : testRequest(read);
  const schema = kind === 'vaccination' ? CertificationRequest : TestCertificationRequest;
  const parsed = schema.safeParse(candidate);
  if (parsed.success && read.errors.size === 0) {
    const payload = parsed.data;
    return {
      ok: true,
      payload,
      preEnrollmentCode: payload.preEnrollmentCode,
      ...('vaccination' in payload ? { dose: payload.vaccination.dose } : {}),
    };
  }
  const errors: RowError[] = [...read.errors].map(([field, reason]) => ({ field, reason }));
  const seen = new Set(read.errors.keys());
  for (const issue of parsed.success ? [] : toFieldErrors(parsed.error.issues)) {
    const field = csvColumnOfPath(kind, issue.path);
    // One reason per cell: the first. What follows a format error ("must not be in the future" of a
    // value that is not a date at all) is noise, and so is the schema's view of a cell that could not
    // even be read.
    if (seen.has(field)) continue;
    seen.add(field);
    errors.push({ field, reason: issue.message });
  }
  return { ok: false, errors };
};

/**
 * The request id of row `row` of upload `uploadId`: deterministic, so processing a row twice (a crash
 * and a resume) can never make two requests of it.
 */
export const bulkRequestId = (uploadId: string, row: number): string => `${uploadId}.r${row}`;

/** The upload and row a bulk request id stands for; undefined for other request ids. */
export const parseBulkRequestId = (requestId: string): { uploadId: string; row: number } | undefined => {
  const match = /^(.+)\.r(\d{1,9})$/.exec(requestId);
  if (!match) return undefined;
  const row = Number(match[2]);
  return row >= 1 ? { uploadId: match[1] as string, row } : undefined;
};

export const UPLOAD_STATUSES = ['receiving', 'processing', 'completed', 'failed', 'rejected'] as const;
export type UploadStatus = (typeof UPLOAD_STATUSES)[number];

/** The answer to a bulk upload: the file is stored, its rows are processed in the background. */
export const UploadAccepted = z
  .object({ uploadId: z.string(), status: z.literal('processing'), filename: z.string() })
  .meta({ description: 'Poll GET …/certify/uploads for progress and …/uploads/{uploadId}/errors for failed rows.' });

export const UploadCounts = z.object({
  /** Data rows in the file (known once the file has been read through). */
  total: z.number().int().nullable(),
  /** Rows that passed validation and were queued for signing. */
  valid: z.number().int(),
  /** Rows that failed validation (never queued). */
  invalid: z.number().int(),
  issued: z.number().int(),
  /** Rows whose certificate already existed (the same dose or test was certified before). */
  duplicate: z.number().int(),
  /** Valid rows the signer refused. */
  failed: z.number().int(),
});
export type UploadCounts = z.infer<typeof UploadCounts>;

export const UploadSummary = z.object({
  uploadId: z.string(),
  kind: z.enum(['vaccination', 'test']),
  filename: z.string(),
  status: z.enum(UPLOAD_STATUSES),
  error: z.string().optional(),
  bytes: z.number().int(),
  counts: UploadCounts,
  receivedAt: z.string(),
  /** Every row has been validated and the valid ones queued for signing. */
  publishedAt: z.string().optional(),
  /** Every valid row has an outcome (issued, duplicate or failed). */
  completedAt: z.string().optional(),
  /** When the cells of failed rows were deleted (the retention period ended); row numbers and reasons stay. */
  cellsRemovedAt: z.string().optional(),
});
export type UploadSummary = z.infer<typeof UploadSummary>;

/** DIVOC's error listing: the columns, then one object per failed row with its cells and errors. */
export const UploadErrors = z.object({
  columns: z.array(z.string()),
  errorRows: z.array(
    z
      .object({
        row: z.number().int(),
        status: z.enum(['invalid', 'failed']),
        errors: z.array(RowError),
      })
      .catchall(z.string()),
  ),
  /** Set when more failed rows follow: pass it as `afterRow` for the next page. */
  nextAfterRow: z.number().int().optional(),
  cellsRemovedAt: z.string().optional(),
});
export type UploadErrors = z.infer<typeof UploadErrors>;
