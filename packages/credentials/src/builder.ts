import {
  type ApiVersion,
  type CertificationRequest,
  type CertificationRequestV2,
  findVaccine,
  type IcdConfig,
  type TestCertificationRequest,
  type VaccineIcdConfig,
} from '@divoc/contracts';
import { CONTEXT_URLS } from './contexts.js';
import {
  type CredentialStatus,
  type PostalAddress,
  type TestCredential,
  TestCredential as TestCredentialSchema,
  type VaccinationCredential,
  VaccinationCredential as VaccinationCredentialSchema,
} from './model.js';
import { w3cDate } from './proofs/verify-data.js';

/** What the builder needs besides the request: issuer identity, URLs and the etcd mappings. */
export interface CredentialConfig {
  /** `CERTIFICATE_ISSUER`: the issuer id, also the controller of the signing keys. */
  issuer: string;
  /** `CERTIFICATE_BASE_URL`: evidence ids are this prefix + the certificate id. */
  evidenceBaseUrl: string;
  /** `CERTIFICATE_INFO_BASE_URL` (optional). */
  infoUrl?: string | undefined;
  /** `CERTIFICATE_FEEDBACK_BASE_URL` (optional): + certificate id. */
  feedbackBaseUrl?: string | undefined;
  /** `FACILITY_COUNTRY_CODE`: the country when a facility address has none. */
  facilityCountryCode: string;
  /** `IDENTITY_REJECTION_PATTERN`: identities such as "NA" that stand for "none". */
  identityRejectionPattern: RegExp;
  /** Prefix for identities that are not URIs (DIVOC: `did:india`). */
  identityPrefix: string;
  /** etcd `ICD` and `VACCINE_ICD`. */
  icd: IcdConfig;
  vaccineIcd: VaccineIcdConfig;
}

export interface IssueFacts {
  certificateId: string;
  issuanceDate: Date;
  /** The status list bit of this certificate (see `statusEntry`). */
  status?: CredentialStatus | undefined;
}

/** The vaccine named in a v3 (DDCC) request is not in `VACCINE_ICD`: the operator must add it. */
export class UnknownVaccineError extends Error {
  readonly code = 'UNKNOWN_VACCINE';
  constructor(readonly vaccineName: string) {
    super(
      `vaccine "${vaccineName}" is not listed in the etcd key VACCINE_ICD; add it (or an alias) with its ICD-11 code, then retry`,
    );
  }
}

const IRI_SAFE = /^[a-z][a-z0-9+.-]*:[^\s<>"{}|\\^`]+$/i;

/** DIVOC's rule: a URI identity is kept; anything else becomes `<prefix>:<identity>` (or the code, if "none"). */
export const subjectId = (identity: string, preEnrollmentCode: string, config: CredentialConfig): string => {
  if (IRI_SAFE.test(identity)) return identity;
  const value = config.identityRejectionPattern.test(identity) ? preEnrollmentCode : identity;
  return `${config.identityPrefix}:${encodeURIComponent(value)}`;
};

/** Whole years between a date of birth and an event. */
export const ageAt = (dob: string, at: string): string => {
  const birth = new Date(`${dob}T00:00:00Z`);
  const event = new Date(at);
  let years = event.getUTCFullYear() - birth.getUTCFullYear();
  const beforeBirthday =
    event.getUTCMonth() < birth.getUTCMonth() ||
    (event.getUTCMonth() === birth.getUTCMonth() && event.getUTCDate() < birth.getUTCDate());
  if (beforeBirthday) years--;
  return String(Math.max(0, years));
};

/** Drops absent and empty values, so the signed credential (and its QR) carries only what is known. */
const compact = <T extends Record<string, unknown>>(value: T): T => {
  // A plain loop: entries/filter/fromEntries allocated three arrays per object, on every credential signed.
  const kept: Record<string, unknown> = {};
  for (const name in value) {
    const member = value[name];
    if (member !== undefined && member !== '') kept[name] = member;
  }
  return kept as T;
};

interface RequestAddress {
  addressLine1: string;
  addressLine2?: string | undefined;
  district: string;
  state: string;
  country?: string | undefined;
  pincode: string;
}

const postalAddress = (address: RequestAddress | undefined, defaultCountry?: string): PostalAddress | undefined =>
  address === undefined
    ? defaultCountry === undefined
      ? undefined
      : { addressCountry: defaultCountry }
    : compact({
        streetAddress: address.addressLine1,
        streetAddress2: address.addressLine2,
        district: address.district,
        addressRegion: address.state,
        addressCountry: address.country ?? defaultCountry,
        postalCode: address.pincode,
      });

const evidenceUrls = (certificateId: string, config: CredentialConfig) =>
  compact({
    id: `${config.evidenceBaseUrl}${certificateId}`,
    infoUrl: config.infoUrl,
    feedbackUrl: config.feedbackBaseUrl === undefined ? undefined : `${config.feedbackBaseUrl}${certificateId}`,
  }) as { id: string; infoUrl?: string; feedbackUrl?: string };

/** Looks up the ICD-11 code and prophylaxis of a vaccine by exact normalised name. */
export const vaccineCoding = (vaccineName: string, config: Pick<CredentialConfig, 'icd' | 'vaccineIcd'>) => {
  const entry = findVaccine(config.vaccineIcd, vaccineName);
  if (entry === undefined) return undefined;
  return { icd11Code: entry.icd11Code, prophylaxis: config.icd[entry.icd11Code]?.icd11Term };
};

/**
 * A vaccination credential. The v3 (DDCC) API adds the date of birth, the ICD-11 code and the
 * prophylaxis, and requires the vaccine to be known; the v1 API keeps DIVOC's v1 fields.
 */
export const buildVaccinationCredential = (
  request: CertificationRequest | CertificationRequestV2,
  apiVersion: ApiVersion,
  facts: IssueFacts,
  config: CredentialConfig,
): VaccinationCredential => {
  const { recipient, vaccination } = request;
  const ddcc = apiVersion === 'v3';
  const coding = ddcc ? vaccineCoding(vaccination.name, config) : undefined;
  if (ddcc && coding === undefined) throw new UnknownVaccineError(vaccination.name);
  const dob = recipient.dob ?? undefined;

  const credential: VaccinationCredential = {
    '@context': [CONTEXT_URLS.credentials, CONTEXT_URLS.divoc],
    type: ['VerifiableCredential', 'ProofOfVaccinationCredential'],
    credentialSubject: compact({
      type: 'Person' as const,
      id: subjectId(recipient.identity, request.preEnrollmentCode, config),
      refId: request.preEnrollmentCode,
      name: recipient.name,
      gender: recipient.gender,
      // v1 carries age (computed from dob if need be); v3 carries dob, and age only when dob is unknown.
      age:
        ddcc && dob !== undefined
          ? undefined
          : (recipient.age ?? (dob === undefined ? undefined : ageAt(dob, vaccination.date))),
      dob: ddcc ? dob : undefined,
      nationality: recipient.nationality,
      address: postalAddress(recipient.address),
    }),
    issuer: config.issuer,
    issuanceDate: w3cDate(facts.issuanceDate),
    evidence: [
      compact({
        ...evidenceUrls(facts.certificateId, config),
        certificateId: facts.certificateId,
        type: ['Vaccination'] as ['Vaccination'],
        batch: vaccination.batch,
        vaccine: vaccination.name,
        manufacturer: vaccination.manufacturer,
        icd11Code: coding?.icd11Code,
        prophylaxis: coding?.prophylaxis,
        date: vaccination.date,
        effectiveStart: vaccination.effectiveStart,
        effectiveUntil: vaccination.effectiveUntil,
        dose: vaccination.dose,
        totalDoses: vaccination.totalDoses,
        verifier: request.vaccinator === undefined ? undefined : { name: request.vaccinator.name },
        facility: compact({
          name: request.facility.name,
          address: postalAddress(request.facility.address, config.facilityCountryCode),
        }),
      }),
    ],
    nonTransferable: 'true',
    ...(facts.status ? { credentialStatus: facts.status } : {}),
  };
  return VaccinationCredentialSchema.parse(credential);
};

/** A test-result credential (DIVOC's ProofOfTestCertificateCredential). */
export const buildTestCredential = (
  request: TestCertificationRequest,
  facts: IssueFacts,
  config: CredentialConfig,
): TestCredential => {
  const { recipient, testDetails } = request;
  const credential: TestCredential = {
    '@context': [CONTEXT_URLS.credentials, CONTEXT_URLS.divoc],
    type: ['VerifiableCredential', 'ProofOfTestCertificateCredential'],
    credentialSubject: compact({
      type: 'Person' as const,
      id: subjectId(recipient.identity, request.preEnrollmentCode, config),
      refId: request.preEnrollmentCode,
      name: recipient.name,
      gender: recipient.gender,
      dob: recipient.dob,
      nationality: recipient.nationality,
      address: postalAddress(recipient.address),
    }),
    issuer: config.issuer,
    issuanceDate: w3cDate(facts.issuanceDate),
    evidence: [
      compact({
        ...evidenceUrls(facts.certificateId, config),
        certificateId: facts.certificateId,
        type: ['TestDetails'] as ['TestDetails'],
        testName: testDetails.testName,
        testType: testDetails.testType,
        disease: testDetails.disease,
        sampleOrigin: testDetails.sampleOrigin,
        batch: testDetails.batch,
        manufacturer: testDetails.manufacturer,
        sampleCollectionTimestamp: testDetails.sampleCollectionTimestamp,
        resultTimestamp: testDetails.resultTimestamp,
        result: testDetails.result,
        verifier: request.verifier === undefined ? undefined : { name: request.verifier.name },
        facility: compact({
          name: request.facility.name,
          address: postalAddress(request.facility.address, config.facilityCountryCode),
        }),
      }),
    ],
    nonTransferable: 'true',
    ...(facts.status ? { credentialStatus: facts.status } : {}),
  };
  return TestCredentialSchema.parse(credential);
};
