import {
  CertificationRequest,
  CertificationRequestV2,
  type CertifiedEvent,
  type CertifyEvent,
  TestCertificationRequest,
} from '@divoc/contracts';
import {
  buildTestCredential,
  buildVaccinationCredential,
  type CredentialConfig,
  newCertificateId,
  type SigningKey,
  signCredential,
  UnknownVaccineError,
} from '@divoc/credentials';
import type { NewCertificate } from '@divoc/store';

/** A request that can never succeed as sent (the reason goes to the ledger and the dead-letter topic). */
export class RejectedRequest extends Error {}

export interface PreparedCertificate {
  row: NewCertificate;
  certified: Omit<CertifiedEvent, 'certificateId' | 'issuedAt'>;
}

const firstContact = (contact: readonly string[], scheme: 'tel:' | 'mailto:') =>
  contact.find((entry) => entry.startsWith(scheme))?.slice(scheme.length);

const schemaError = (issues: { path: PropertyKey[]; message: string }[]) =>
  new RejectedRequest(
    `the payload breaks the contract: ${issues
      .slice(0, 5)
      .map((issue) => `${issue.path.join('.')} ${issue.message}`)
      .join('; ')}`,
  );

/**
 * Builds and signs the credential for one certify event. The payload is validated again (the
 * event may come from a replayed dead letter or an older gateway); a payload that cannot be
 * certified raises RejectedRequest.
 */
export const prepareCertificate = async (
  event: CertifyEvent,
  { config, key, now }: { config: CredentialConfig; key: SigningKey; now: Date },
): Promise<PreparedCertificate> => {
  const facts = { certificateId: newCertificateId(now), issuanceDate: now };
  if (event.kind === 'test') {
    const parsed = TestCertificationRequest.safeParse(event.payload);
    if (!parsed.success) throw schemaError(parsed.error.issues);
    const request = parsed.data;
    const credential = await signCredential(buildTestCredential(request, facts, config), { key, created: now });
    return {
      row: {
        certificateId: facts.certificateId,
        requestId: event.requestId,
        kind: 'test',
        preEnrollmentCode: request.preEnrollmentCode,
        programId: request.programId,
        dose: 0,
        slot: new Date(request.testDetails.sampleCollectionTimestamp).toISOString(),
        credential,
        name: request.recipient.name,
        mobile: firstContact(request.recipient.contact, 'tel:'),
        email: firstContact(request.recipient.contact, 'mailto:'),
        issuedAt: now,
      },
      certified: {
        requestId: event.requestId,
        preEnrollmentCode: request.preEnrollmentCode,
        ...(request.programId ? { programId: request.programId } : {}),
        dose: 0,
        kind: 'test',
        contact: request.recipient.contact,
        name: request.recipient.name,
        product: request.testDetails.testType,
      },
    };
  }
  const schema = event.apiVersion === 'v3' ? CertificationRequestV2 : CertificationRequest;
  const parsed = schema.safeParse(event.payload);
  if (!parsed.success) throw schemaError(parsed.error.issues);
  const request = parsed.data;
  let unsigned: ReturnType<typeof buildVaccinationCredential>;
  try {
    unsigned = buildVaccinationCredential(request, event.apiVersion, facts, config);
  } catch (error) {
    if (error instanceof UnknownVaccineError) throw new RejectedRequest(error.message);
    throw error;
  }
  const credential = await signCredential(unsigned, { key, created: now });
  const { vaccination } = request;
  return {
    row: {
      certificateId: facts.certificateId,
      requestId: event.requestId,
      kind: 'vaccination',
      preEnrollmentCode: request.preEnrollmentCode,
      programId: request.programId,
      dose: vaccination.dose,
      totalDoses: vaccination.totalDoses,
      slot: String(vaccination.dose),
      credential,
      name: request.recipient.name,
      mobile: firstContact(request.recipient.contact, 'tel:'),
      email: firstContact(request.recipient.contact, 'mailto:'),
      issuedAt: now,
      previousCertificateId: event.previousCertificateId,
    },
    certified: {
      requestId: event.requestId,
      preEnrollmentCode: request.preEnrollmentCode,
      ...(request.programId ? { programId: request.programId } : {}),
      dose: vaccination.dose,
      totalDoses: vaccination.totalDoses,
      kind: 'vaccination',
      ...(event.previousCertificateId ? { previousCertificateId: event.previousCertificateId } : {}),
      contact: request.recipient.contact,
      name: request.recipient.name,
      product: vaccination.name,
    },
  };
};
