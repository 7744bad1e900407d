import {
  CertificationRequest,
  CertificationRequestV2,
  type CertifiedEvent,
  type CertifyEvent,
  mobileKey,
  TestCertificationRequest,
} from '@divoc/contracts';
import {
  buildTestCredential,
  buildVaccinationCredential,
  type CredentialConfig,
  type CredentialStatus,
  newCertificateId,
  type SigningKey,
  signCredential,
  UnknownVaccineError,
  type UnsignedCredential,
} from '@divoc/credentials';
import type { NewCertificate } from '@divoc/store';

/** A request that can never succeed as sent (the reason goes to the ledger and the dead-letter topic). */
export class RejectedRequest extends Error {}

/** A validated request, its credential built but not yet signed (it still needs its status list bit). */
export interface PlannedCertificate {
  event: CertifyEvent;
  row: Omit<NewCertificate, 'credential'>;
  unsigned: UnsignedCredential;
  certified: Omit<CertifiedEvent, 'certificateId' | 'issuedAt'>;
}

const firstContact = (contact: readonly string[], scheme: 'tel:' | 'mailto:') =>
  contact.find((entry) => entry.startsWith(scheme))?.slice(scheme.length);

/** Mobile numbers are stored as `mobileKey`, so lookups by a typed number ("+91 90000 12345") match. */
const mobileOf = (contact: readonly string[]) => {
  const tel = firstContact(contact, 'tel:');
  return tel === undefined ? undefined : mobileKey(tel);
};

const schemaError = (issues: { path: PropertyKey[]; message: string }[]) =>
  new RejectedRequest(
    `the payload breaks the contract: ${issues
      .slice(0, 5)
      .map((issue) => `${issue.path.join('.')} ${issue.message}`)
      .join('; ')}`,
  );

/**
 * Validates the payload of a certify event (again: the event may come from a replayed dead letter or
 * an older gateway) and builds its credential. A payload that cannot be certified raises RejectedRequest.
 */
export const planCertificate = (
  event: CertifyEvent,
  { config, now }: { config: CredentialConfig; now: Date },
): PlannedCertificate => {
  const facts = { certificateId: newCertificateId(now), issuanceDate: now };
  if (event.kind === 'test') {
    const parsed = TestCertificationRequest.safeParse(event.payload);
    if (!parsed.success) throw schemaError(parsed.error.issues);
    const request = parsed.data;
    return {
      event,
      unsigned: buildTestCredential(request, facts, config),
      row: {
        certificateId: facts.certificateId,
        requestId: event.requestId,
        kind: 'test',
        preEnrollmentCode: request.preEnrollmentCode,
        programId: request.programId,
        dose: 0,
        slot: new Date(request.testDetails.sampleCollectionTimestamp).toISOString(),
        name: request.recipient.name,
        mobile: mobileOf(request.recipient.contact),
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
  let unsigned: UnsignedCredential;
  try {
    unsigned = buildVaccinationCredential(request, event.apiVersion, facts, config);
  } catch (error) {
    if (error instanceof UnknownVaccineError) throw new RejectedRequest(error.message);
    throw error;
  }
  const { vaccination } = request;
  return {
    event,
    unsigned,
    row: {
      certificateId: facts.certificateId,
      requestId: event.requestId,
      kind: 'vaccination',
      preEnrollmentCode: request.preEnrollmentCode,
      programId: request.programId,
      dose: vaccination.dose,
      totalDoses: vaccination.totalDoses,
      slot: String(vaccination.dose),
      name: request.recipient.name,
      mobile: mobileOf(request.recipient.contact),
      email: firstContact(request.recipient.contact, 'mailto:'),
      issuedAt: now,
    },
    certified: {
      requestId: event.requestId,
      preEnrollmentCode: request.preEnrollmentCode,
      ...(request.programId ? { programId: request.programId } : {}),
      dose: vaccination.dose,
      totalDoses: vaccination.totalDoses,
      kind: 'vaccination',
      contact: request.recipient.contact,
      name: request.recipient.name,
      product: vaccination.name,
    },
  };
};

/** Signs a planned certificate with its status list entry; the row to store. */
export const signPlanned = async (
  plan: PlannedCertificate,
  { key, status, now }: { key: SigningKey; status: CredentialStatus | undefined; now: Date },
): Promise<NewCertificate> => {
  const credential = status === undefined ? plan.unsigned : { ...plan.unsigned, credentialStatus: status };
  return { ...plan.row, credential: await signCredential(credential, { key, created: now }) };
};
