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
  type Person,
  type PostalAddress,
  type TestCredential,
  TestCredential as TestCredentialSchema,
  type TestEvidence,
  type UnsignedCredential,
  type VaccinationCredential,
  VaccinationCredential as VaccinationCredentialSchema,
  type VaccinationEvidence,
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

/**
 * Sets a member only when its value is known (neither absent nor empty), so the signed credential (and
 * its QR) carries only what is known. Members are set one by one on purpose: building a literal with
 * every optional member and then copying the known ones (a generic for-in) cost 15 µs per credential,
 * more than the rest of the builder.
 */
const setKnown = <T extends object, K extends keyof T>(target: T, name: K, value: T[K] | '' | undefined): void => {
  if (value !== undefined && value !== '') target[name] = value as T[K];
};

interface RequestAddress {
  addressLine1: string;
  addressLine2?: string | undefined;
  district: string;
  state: string;
  country?: string | undefined;
  pincode: string;
}

const postalAddress = (address: RequestAddress | undefined, defaultCountry?: string): PostalAddress | undefined => {
  if (address === undefined) return defaultCountry === undefined ? undefined : { addressCountry: defaultCountry };
  const postal: PostalAddress = {};
  setKnown(postal, 'streetAddress', address.addressLine1);
  setKnown(postal, 'streetAddress2', address.addressLine2);
  setKnown(postal, 'district', address.district);
  setKnown(postal, 'addressRegion', address.state);
  setKnown(postal, 'addressCountry', address.country ?? defaultCountry);
  setKnown(postal, 'postalCode', address.pincode);
  return postal;
};

interface RequestRecipient {
  identity: string;
  name: string;
  gender?: string | undefined;
  nationality?: string | undefined;
  address?: RequestAddress | undefined;
}

/**
 * The `credentialSubject` members both credential kinds share; the caller adds age or dob. (The order
 * members are set in does not matter: the schema's parse writes them in its own order.)
 */
const person = (recipient: RequestRecipient, preEnrollmentCode: string, config: CredentialConfig): Person => {
  const subject = { type: 'Person' } as Person;
  setKnown(subject, 'id', subjectId(recipient.identity, preEnrollmentCode, config));
  setKnown(subject, 'refId', preEnrollmentCode);
  setKnown(subject, 'name', recipient.name);
  setKnown(subject, 'gender', recipient.gender);
  setKnown(subject, 'nationality', recipient.nationality);
  setKnown(subject, 'address', postalAddress(recipient.address));
  return subject;
};

interface RequestFacility {
  name: string;
  address?: RequestAddress | undefined;
}

type CommonEvidence = VaccinationEvidence | TestEvidence;

/** The evidence members both credential kinds share; the caller adds the vaccination or test details. */
const evidenceOf = <E extends CommonEvidence>(
  type: E['type'],
  certificateId: string,
  verifier: { name: string } | undefined,
  facility: RequestFacility,
  config: CredentialConfig,
): E => {
  const evidence = { type } as E;
  setKnown(evidence, 'id', `${config.evidenceBaseUrl}${certificateId}`);
  setKnown(evidence, 'infoUrl', config.infoUrl);
  if (config.feedbackBaseUrl !== undefined)
    setKnown(evidence, 'feedbackUrl', `${config.feedbackBaseUrl}${certificateId}`);
  setKnown(evidence, 'certificateId', certificateId);
  if (verifier !== undefined) evidence.verifier = { name: verifier.name };
  const place = {} as E['facility'];
  setKnown(place, 'name', facility.name);
  setKnown(place, 'address', postalAddress(facility.address, config.facilityCountryCode));
  evidence.facility = place;
  return evidence;
};

/** The W3C VC envelope around a subject and its one evidence entry, as DIVOC issues it. */
const envelope = <C extends UnsignedCredential>(
  type: C['type'],
  subject: Person,
  evidence: C['evidence'][0],
  facts: IssueFacts,
  config: CredentialConfig,
): C => {
  const credential = {
    '@context': [CONTEXT_URLS.credentials, CONTEXT_URLS.divoc],
    type,
    credentialSubject: subject,
    issuer: config.issuer,
    issuanceDate: w3cDate(facts.issuanceDate),
    evidence: [evidence],
    nonTransferable: 'true',
  } as C;
  if (facts.status) credential.credentialStatus = facts.status;
  return credential;
};

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

  const subject = person(recipient, request.preEnrollmentCode, config);
  // v1 carries age (computed from dob if need be); v3 carries dob, and age only when dob is unknown.
  if (ddcc && dob !== undefined) setKnown(subject, 'dob', dob);
  else setKnown(subject, 'age', recipient.age ?? (dob === undefined ? undefined : ageAt(dob, vaccination.date)));

  const evidence = evidenceOf<VaccinationEvidence>(
    ['Vaccination'],
    facts.certificateId,
    request.vaccinator,
    request.facility,
    config,
  );
  setKnown(evidence, 'batch', vaccination.batch);
  setKnown(evidence, 'vaccine', vaccination.name);
  setKnown(evidence, 'manufacturer', vaccination.manufacturer);
  setKnown(evidence, 'icd11Code', coding?.icd11Code);
  setKnown(evidence, 'prophylaxis', coding?.prophylaxis);
  setKnown(evidence, 'date', vaccination.date);
  setKnown(evidence, 'effectiveStart', vaccination.effectiveStart);
  setKnown(evidence, 'effectiveUntil', vaccination.effectiveUntil);
  setKnown(evidence, 'dose', vaccination.dose);
  setKnown(evidence, 'totalDoses', vaccination.totalDoses);

  return VaccinationCredentialSchema.parse(
    envelope<VaccinationCredential>(
      ['VerifiableCredential', 'ProofOfVaccinationCredential'],
      subject,
      evidence,
      facts,
      config,
    ),
  );
};

/** A test-result credential (DIVOC's ProofOfTestCertificateCredential). */
export const buildTestCredential = (
  request: TestCertificationRequest,
  facts: IssueFacts,
  config: CredentialConfig,
): TestCredential => {
  const { recipient, testDetails } = request;
  const subject = person(recipient, request.preEnrollmentCode, config);
  setKnown(subject, 'dob', recipient.dob);

  const evidence = evidenceOf<TestEvidence>(
    ['TestDetails'],
    facts.certificateId,
    request.verifier,
    request.facility,
    config,
  );
  setKnown(evidence, 'testName', testDetails.testName);
  setKnown(evidence, 'testType', testDetails.testType);
  setKnown(evidence, 'disease', testDetails.disease);
  setKnown(evidence, 'sampleOrigin', testDetails.sampleOrigin);
  setKnown(evidence, 'batch', testDetails.batch);
  setKnown(evidence, 'manufacturer', testDetails.manufacturer);
  setKnown(evidence, 'sampleCollectionTimestamp', testDetails.sampleCollectionTimestamp);
  setKnown(evidence, 'resultTimestamp', testDetails.resultTimestamp);
  setKnown(evidence, 'result', testDetails.result);

  return TestCredentialSchema.parse(
    envelope<TestCredential>(
      ['VerifiableCredential', 'ProofOfTestCertificateCredential'],
      subject,
      evidence,
      facts,
      config,
    ),
  );
};
