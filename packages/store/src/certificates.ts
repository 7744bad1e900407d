import type { CertificateKind } from '@divoc/contracts';
import type { Queryable } from '@divoc/platform';

export type CertificateStatus = 'active' | 'superseded' | 'revoked';

export interface NewCertificate {
  certificateId: string;
  requestId: string;
  kind: CertificateKind;
  preEnrollmentCode: string;
  programId?: string | undefined;
  dose: number;
  totalDoses?: number | undefined;
  /** What the certificate is unique for among active ones: the dose, or a test's sample time. */
  slot: string;
  credential: object;
  name: string;
  mobile?: string | undefined;
  email?: string | undefined;
  issuedAt: Date;
  previousCertificateId?: string | undefined;
  revision?: number;
}

export type InsertOutcome =
  | { requestId: string; status: 'issued'; certificateId: string; alreadyIssued: boolean }
  | { requestId: string; status: 'duplicate'; existingCertificateId: string };

/** The certificate id collided with an existing one (64 random bits: practically never). Retry with new ids. */
export class CertificateIdCollisionError extends Error {
  constructor(readonly requestIds: string[]) {
    super(`certificate id collision for ${requestIds.length} request(s); retry with new ids`);
  }
}

/**
 * Inserts certificates in one statement. Each request gets exactly one outcome:
 * - issued (inserted now, or `alreadyIssued` when this request was stored before — a redelivery);
 * - duplicate, when another active certificate holds the same slot (the partial unique index).
 */
export const insertCertificates = async (tx: Queryable, rows: readonly NewCertificate[]): Promise<InsertOutcome[]> => {
  if (rows.length === 0) return [];
  // One JSON parameter instead of fifteen arrays: JSON.stringify is native, while pg escapes array
  // literals element by element in JavaScript (measurably slow for kilobyte-sized credentials). As
  // json (not jsonb) each credential's text is stored as it appears here, key order included.
  const inserted = await tx.query<{ request_id: string; certificate_id: string }>(
    `INSERT INTO certificates (certificate_id, request_id, kind, pre_enrollment_code, program_id, dose, total_doses, slot,
                               credential, name, mobile, email, issued_at, previous_certificate_id, revision)
     SELECT certificate_id, request_id, kind, pre_enrollment_code, program_id, dose, total_doses, slot,
            credential, name, mobile, email, issued_at, previous_certificate_id, revision
     FROM json_to_recordset($1::json) AS r(certificate_id text, request_id text, kind text, pre_enrollment_code text,
       program_id text, dose int, total_doses int, slot text, credential json, name text, mobile text, email text,
       issued_at timestamptz, previous_certificate_id text, revision int)
     ON CONFLICT DO NOTHING
     RETURNING request_id, certificate_id`,
    [
      JSON.stringify(
        rows.map((row) => ({
          certificate_id: row.certificateId,
          request_id: row.requestId,
          kind: row.kind,
          pre_enrollment_code: row.preEnrollmentCode,
          program_id: row.programId ?? null,
          dose: row.dose,
          total_doses: row.totalDoses ?? null,
          slot: row.slot,
          credential: row.credential,
          name: row.name,
          mobile: row.mobile ?? null,
          email: row.email ?? null,
          issued_at: row.issuedAt.toISOString(),
          previous_certificate_id: row.previousCertificateId ?? null,
          revision: row.revision ?? 1,
        })),
      ),
    ],
  );
  const outcomes = new Map<string, InsertOutcome>();
  for (const row of inserted.rows) {
    outcomes.set(row.request_id, {
      requestId: row.request_id,
      status: 'issued',
      certificateId: row.certificate_id,
      alreadyIssued: false,
    });
  }
  const missing = rows.filter((row) => !outcomes.has(row.requestId));
  if (missing.length > 0) {
    const earlier = await tx.query<{ request_id: string; certificate_id: string }>(
      'SELECT request_id, certificate_id FROM certificates WHERE request_id = ANY($1::text[])',
      [missing.map((row) => row.requestId)],
    );
    for (const row of earlier.rows) {
      outcomes.set(row.request_id, {
        requestId: row.request_id,
        status: 'issued',
        certificateId: row.certificate_id,
        alreadyIssued: true,
      });
    }
    const collisions: string[] = [];
    for (const row of missing.filter((candidate) => !outcomes.has(candidate.requestId))) {
      const holder = await findActive(tx, row.preEnrollmentCode, row.programId, row.kind, row.slot);
      if (holder === undefined) collisions.push(row.requestId);
      else
        outcomes.set(row.requestId, { requestId: row.requestId, status: 'duplicate', existingCertificateId: holder });
    }
    if (collisions.length > 0) throw new CertificateIdCollisionError(collisions);
  }
  return rows.map((row) => outcomes.get(row.requestId) as InsertOutcome);
};

const findActive = async (
  tx: Queryable,
  preEnrollmentCode: string,
  programId: string | undefined,
  kind: CertificateKind,
  slot: string,
): Promise<string | undefined> => {
  const { rows } = await tx.query<{ certificate_id: string }>(
    `SELECT certificate_id FROM certificates
     WHERE pre_enrollment_code = $1 AND coalesce(program_id, '') = $2 AND kind = $3 AND slot = $4 AND status = 'active'`,
    [preEnrollmentCode, programId ?? '', kind, slot],
  );
  return rows[0]?.certificate_id;
};

export interface CertificateRow {
  certificateId: string;
  requestId: string;
  kind: CertificateKind;
  preEnrollmentCode: string;
  programId: string | null;
  dose: number;
  totalDoses: number | null;
  status: CertificateStatus;
  previousCertificateId: string | null;
  revision: number;
  credential: Record<string, unknown>;
  mobile: string | null;
  issuedAt: Date;
}

const SELECT_CERTIFICATE = `SELECT certificate_id AS "certificateId", request_id AS "requestId", kind,
  pre_enrollment_code AS "preEnrollmentCode", program_id AS "programId", dose, total_doses AS "totalDoses", status,
  previous_certificate_id AS "previousCertificateId", revision, credential, mobile, issued_at AS "issuedAt"
  FROM certificates`;

export const findCertificateById = async (db: Queryable, certificateId: string): Promise<CertificateRow | undefined> =>
  (await db.query<CertificateRow>(`${SELECT_CERTIFICATE} WHERE certificate_id = $1`, [certificateId])).rows[0];

/** Every certificate of a beneficiary (all statuses), highest dose and newest revision first. */
export const findCertificatesOfBeneficiary = async (
  db: Queryable,
  preEnrollmentCode: string,
  kind?: CertificateKind,
): Promise<CertificateRow[]> =>
  (
    await db.query<CertificateRow>(
      `${SELECT_CERTIFICATE} WHERE pre_enrollment_code = $1 AND ($2::text IS NULL OR kind = $2)
       ORDER BY dose DESC, revision DESC, issued_at DESC`,
      [preEnrollmentCode, kind ?? null],
    )
  ).rows;

/** The active certificates of a beneficiary: highest dose first, then newest revision. */
export const findActiveCertificates = async (
  db: Queryable,
  preEnrollmentCode: string,
  kind: CertificateKind,
): Promise<CertificateRow[]> =>
  (
    await db.query<CertificateRow>(
      `${SELECT_CERTIFICATE} WHERE pre_enrollment_code = $1 AND kind = $2 AND status = 'active'
       ORDER BY dose DESC, revision DESC, issued_at DESC`,
      [preEnrollmentCode, kind],
    )
  ).rows;

export interface BeneficiarySummary {
  preEnrollmentCode: string;
  name: string;
  gender: string | null;
  dob: string | null;
}

/**
 * The beneficiaries registered with a mobile number whose certificates carry the given date of
 * birth (the print desk's search; DIVOC's /beneficiaries). Mobile numbers are stored as digits.
 */
export const findBeneficiariesByMobile = async (
  db: Queryable,
  mobile: string,
  dob: string,
): Promise<BeneficiarySummary[]> =>
  (
    await db.query<BeneficiarySummary>(
      `SELECT DISTINCT ON (pre_enrollment_code) pre_enrollment_code AS "preEnrollmentCode", name,
              credential->'credentialSubject'->>'gender' AS gender, credential->'credentialSubject'->>'dob' AS dob
       FROM certificates
       WHERE mobile = $1 AND status = 'active' AND credential->'credentialSubject'->>'dob' = $2
       ORDER BY pre_enrollment_code, dose DESC, revision DESC`,
      [mobile, dob],
    )
  ).rows;
