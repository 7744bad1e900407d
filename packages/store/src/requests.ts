import type { ApiVersion, CertificateKind } from '@divoc/contracts';
import type { Queryable } from '@divoc/platform';

export type RequestStatus = 'accepted' | 'issued' | 'duplicate' | 'failed';

export interface NewRequest {
  requestId: string;
  operation: 'certify' | 'update';
  kind: CertificateKind;
  apiVersion: ApiVersion;
  preEnrollmentCode: string;
  dose?: number | undefined;
  actor: string;
  receivedAt: Date;
}

export const insertRequests = async (tx: Queryable, rows: readonly NewRequest[]): Promise<void> => {
  if (rows.length === 0) return;
  await tx.query(
    `INSERT INTO requests (request_id, operation, kind, api_version, pre_enrollment_code, dose, actor, received_at, updated_at)
     SELECT r.*, r.received_at FROM jsonb_to_recordset($1::jsonb)
       AS r(request_id text, operation text, kind text, api_version text, pre_enrollment_code text, dose int, actor text,
            received_at timestamptz)`,
    [
      JSON.stringify(
        rows.map((row) => ({
          request_id: row.requestId,
          operation: row.operation,
          kind: row.kind,
          api_version: row.apiVersion,
          pre_enrollment_code: row.preEnrollmentCode,
          dose: row.dose ?? null,
          actor: row.actor,
          received_at: row.receivedAt.toISOString(),
        })),
      ),
    ],
  );
};

export interface RequestOutcome {
  requestId: string;
  status: Exclude<RequestStatus, 'accepted'>;
  certificateId?: string | undefined;
  error?: string | undefined;
  at: Date;
}

/**
 * Records outcomes. An `accepted` request takes the first outcome, so a redelivered acknowledgement
 * changes nothing; a `failed` one can still become issued or duplicate (its dead letter was replayed
 * after the cause was fixed), never the other way round. Returns how many requests changed.
 */
export const recordOutcomes = async (db: Queryable, outcomes: readonly RequestOutcome[]): Promise<number> => {
  if (outcomes.length === 0) return 0;
  const result = await db.query(
    `UPDATE requests AS r SET status = o.status, certificate_id = o.certificate_id, error = o.error, updated_at = o.at
     FROM jsonb_to_recordset($1::jsonb) AS o(request_id text, status text, certificate_id text, error text, at timestamptz)
     WHERE r.request_id = o.request_id
       AND (r.status = 'accepted' OR (r.status = 'failed' AND o.status <> 'failed'))`,
    [
      JSON.stringify(
        outcomes.map((outcome) => ({
          request_id: outcome.requestId,
          status: outcome.status,
          certificate_id: outcome.certificateId ?? null,
          error: outcome.error ?? null,
          at: outcome.at.toISOString(),
        })),
      ),
    ],
  );
  return result.rowCount;
};

export interface RequestRow {
  requestId: string;
  operation: 'certify' | 'update';
  kind: CertificateKind;
  preEnrollmentCode: string;
  dose: number | null;
  status: RequestStatus;
  certificateId: string | null;
  error: string | null;
  actor: string;
  receivedAt: Date;
  updatedAt: Date;
}

export const findRequest = async (db: Queryable, requestId: string): Promise<RequestRow | undefined> =>
  (
    await db.query<RequestRow>(
      `SELECT request_id AS "requestId", operation, kind, pre_enrollment_code AS "preEnrollmentCode", dose, status,
              certificate_id AS "certificateId", error, actor, received_at AS "receivedAt", updated_at AS "updatedAt"
       FROM requests WHERE request_id = $1`,
      [requestId],
    )
  ).rows[0];

/** The stored answer to an earlier call with the same Idempotency-Key, and the hash of its body. */
export const findIdempotentResponse = async (
  db: Queryable,
  actor: string,
  key: string,
): Promise<{ bodySha256: string; response: unknown } | undefined> =>
  (
    await db.query<{ bodySha256: string; response: unknown }>(
      'SELECT body_sha256 AS "bodySha256", response FROM idempotency_keys WHERE actor = $1 AND key = $2',
      [actor, key],
    )
  ).rows[0];

/** Stores the answer for a key; false when another call stored one first (the caller re-reads it). */
export const saveIdempotentResponse = async (
  tx: Queryable,
  actor: string,
  key: string,
  bodySha256: string,
  response: unknown,
  now: Date,
): Promise<boolean> =>
  (
    await tx.query(
      `INSERT INTO idempotency_keys (actor, key, body_sha256, response, created_at) VALUES ($1, $2, $3, $4::jsonb, $5)
       ON CONFLICT DO NOTHING`,
      [actor, key, bodySha256, JSON.stringify(response), now.toISOString()],
    )
  ).rowCount === 1;
