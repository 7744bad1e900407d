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

/** The certificate shown for a beneficiary: the highest active dose, newest revision. */
export const latestCertificate = async (
  db: Database,
  request: FastifyRequest,
  preEnrollmentCode: string,
  kind: CertificateKind,
): Promise<CertificateRow> => {
  const [latest] = await findActiveCertificates(db, preEnrollmentCode, kind);
  return assertMayRead(request, latest, `${kind} certificate for ${preEnrollmentCode}`);
};

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
