import type { CertificateKind } from '@divoc/contracts';
import { type Database, type FastifyRequest, isOwnerOnly, notFound } from '@divoc/platform';
import { type CertificateRow, findActiveCertificates, findCertificateById } from '@divoc/store';

/**
 * A citizen (`recipient` only) may see a certificate only when its mobile number is the token's.
 * Someone else's certificate answers exactly like a missing one (404), so existence does not leak.
 */
const assertMayRead = (
  request: FastifyRequest,
  certificate: CertificateRow | undefined,
  what: string,
): CertificateRow => {
  if (certificate === undefined) throw notFound(`no ${what}`);
  if (isOwnerOnly(request)) {
    const mobile = request.principal?.mobile;
    if (mobile === undefined || certificate.mobile !== mobile) throw notFound(`no ${what}`);
  }
  return certificate;
};

/** A beneficiary's active certificates of a kind, newest first, once the caller may read them. */
export interface ActiveCertificates {
  /** The certificate shown for the beneficiary: the highest active dose, newest revision. */
  latest: CertificateRow;
  /** Every active certificate (the dose history), `latest` first. */
  all: CertificateRow[];
}

/** One query for both the certificate to show and its history; the owner check runs on the latest. */
export const activeCertificates = async (
  db: Database,
  request: FastifyRequest,
  preEnrollmentCode: string,
  kind: CertificateKind,
): Promise<ActiveCertificates> => {
  const all = await findActiveCertificates(db, preEnrollmentCode, kind);
  const latest = assertMayRead(request, all[0], `${kind} certificate for ${preEnrollmentCode}`);
  return { latest, all };
};

/** The certificate shown for a beneficiary: the highest active dose, newest revision. */
export const latestCertificate = async (
  db: Database,
  request: FastifyRequest,
  preEnrollmentCode: string,
  kind: CertificateKind,
): Promise<CertificateRow> => (await activeCertificates(db, request, preEnrollmentCode, kind)).latest;

/** A certificate by id; superseded or revoked certificates are never served. */
export const activeCertificateById = async (
  db: Database,
  request: FastifyRequest,
  certificateId: string,
): Promise<CertificateRow> => {
  const certificate = await findCertificateById(db, certificateId);
  return assertMayRead(
    request,
    certificate?.status === 'active' ? certificate : undefined,
    `certificate ${certificateId}`,
  );
};
