import type { CertificateKind } from '@divoc/contracts';
import type { Queryable } from '@divoc/platform';
import { setStatusBits } from './status-lists.js';

export interface RevokedCertificate {
  certificateId: string;
  preEnrollmentCode: string;
  dose: number;
}

type Slot = { preEnrollmentCode: string; programId?: string | undefined; kind: CertificateKind; slot: string };

const ACTIVE_IN_SLOT = `SELECT certificate_id AS "certificateId", revision FROM certificates
  WHERE pre_enrollment_code = $1 AND coalesce(program_id, '') = $2 AND kind = $3 AND slot = $4 AND status = 'active'`;
const slotParams = (slot: Slot) => [slot.preEnrollmentCode, slot.programId ?? '', slot.kind, slot.slot];

/** The active certificate holding a slot, as of now (no lock: for checks outside a transaction). */
export const findActiveCertificate = async (
  db: Queryable,
  slot: Slot,
): Promise<{ certificateId: string; revision: number } | undefined> =>
  (await db.query<{ certificateId: string; revision: number }>(ACTIVE_IN_SLOT, slotParams(slot))).rows[0];

/**
 * The active certificate holding a slot, locked until the transaction ends. If another transaction
 * replaced it while this one waited for the lock, Postgres (READ COMMITTED) skips the superseded row
 * and cannot see its replacement in the same statement; a second statement locks the replacement.
 */
export const lockActiveCertificate = async (
  tx: Queryable,
  slot: Slot,
): Promise<{ certificateId: string; revision: number } | undefined> => {
  for (let attempt = 0; attempt < 2; attempt++) {
    const { rows } = await tx.query<{ certificateId: string; revision: number }>(
      `${ACTIVE_IN_SLOT} FOR UPDATE`,
      slotParams(slot),
    );
    if (rows[0] !== undefined) return rows[0];
  }
  return undefined;
};

/** How many updates were made for a dose so far (every certificate of the slot after the first). */
export const countUpdates = async (
  db: Queryable,
  slot: { preEnrollmentCode: string; programId?: string | undefined; kind: CertificateKind; slot: string },
): Promise<number> =>
  Math.max(
    0,
    ((
      await db.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM certificates
         WHERE pre_enrollment_code = $1 AND coalesce(program_id, '') = $2 AND kind = $3 AND slot = $4 AND status <> 'revoked'`,
        [slot.preEnrollmentCode, slot.programId ?? '', slot.kind, slot.slot],
      )
    ).rows[0]?.count ?? 0) - 1,
  );

/**
 * Marks the old certificate superseded by the new one, in the caller's transaction (the same one that
 * stores the new certificate): there is no moment in which both are valid.
 */
export const supersede = async (
  tx: Queryable,
  change: { oldCertificateId: string; newCertificateId: string; actor: string; requestId: string; at: Date },
): Promise<void> => {
  const { rows } = await tx.query<{ pre_enrollment_code: string; dose: number }>(
    `UPDATE certificates SET status = 'superseded', status_changed_at = $2 WHERE certificate_id = $1 AND status = 'active'
     RETURNING pre_enrollment_code, dose`,
    [change.oldCertificateId, change.at.toISOString()],
  );
  const old = rows[0];
  if (old === undefined) return;
  await tx.query(
    `INSERT INTO revocations (certificate_id, pre_enrollment_code, dose, reason, replaced_by, actor, request_id, revoked_at)
     VALUES ($1, $2, $3, 'superseded', $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
    [
      change.oldCertificateId,
      old.pre_enrollment_code,
      old.dose,
      change.newCertificateId,
      change.actor,
      change.requestId,
      change.at.toISOString(),
    ],
  );
  await setStatusBits(tx, [change.oldCertificateId]);
};

/**
 * Revokes the active vaccination certificates of a beneficiary for the given doses (all when
 * `doses` is undefined): status revoked, a revocation record with reason, actor and time, the status
 * bit set. Certificates already revoked are left alone, so a redelivered request changes nothing.
 */
export const revokeDoses = async (
  tx: Queryable,
  request: {
    preEnrollmentCode: string;
    doses?: readonly number[] | undefined;
    reason: string;
    actor: string;
    requestId: string;
    at: Date;
  },
): Promise<RevokedCertificate[]> => {
  const { rows } = await tx.query<RevokedCertificate>(
    `UPDATE certificates SET status = 'revoked', status_changed_at = $3
     WHERE pre_enrollment_code = $1 AND kind = 'vaccination' AND status = 'active' AND ($2::int[] IS NULL OR dose = ANY($2::int[]))
     RETURNING certificate_id AS "certificateId", pre_enrollment_code AS "preEnrollmentCode", dose`,
    [request.preEnrollmentCode, request.doses ?? null, request.at.toISOString()],
  );
  if (rows.length === 0) return [];
  await tx.query(
    `INSERT INTO revocations (certificate_id, pre_enrollment_code, dose, reason, actor, request_id, revoked_at)
     SELECT certificate_id, $2, dose, $3, $4, $5, $6 FROM jsonb_to_recordset($1::jsonb) AS r(certificate_id text, dose int)
     ON CONFLICT DO NOTHING`,
    [
      JSON.stringify(rows.map((row) => ({ certificate_id: row.certificateId, dose: row.dose }))),
      request.preEnrollmentCode,
      request.reason,
      request.actor,
      request.requestId,
      request.at.toISOString(),
    ],
  );
  await setStatusBits(
    tx,
    rows.map((row) => row.certificateId),
  );
  return rows;
};

/** Why a certificate is no longer valid (superseded or revoked), or undefined when it is. */
export const findRevocation = async (
  db: Queryable,
  certificateId: string,
): Promise<{ reason: string; replacedBy: string | null; revokedAt: Date } | undefined> =>
  (
    await db.query<{ reason: string; replacedBy: string | null; revokedAt: Date }>(
      `SELECT reason, replaced_by AS "replacedBy", revoked_at AS "revokedAt" FROM revocations WHERE certificate_id = $1`,
      [certificateId],
    )
  ).rows[0];

/** The doses of a beneficiary's active vaccination certificates (for DIVOC's revocation rules). */
export const activeDoses = async (db: Queryable, preEnrollmentCode: string): Promise<number[]> =>
  (
    await db.query<{ dose: number }>(
      `SELECT DISTINCT dose FROM certificates WHERE pre_enrollment_code = $1 AND kind = 'vaccination' AND status = 'active' ORDER BY dose`,
      [preEnrollmentCode],
    )
  ).rows.map((row) => row.dose);
