import type { IcdConfig, TestField, VaccinationField, VaxEventField } from '@divoc/contracts';
import { ageAt, type PostalAddress, type TestCredential, type VaccinationCredential } from '@divoc/credentials';

/**
 * The view model of a certificate: the flat, formatted fields a template can name (DIVOC's template data),
 * every one a string, "NA" when the credential does not say.
 */

export const NOT_AVAILABLE = 'NA';

export type VaxEvent = Record<VaxEventField, string>;

export interface VaccinationView {
  kind: 'vaccination';
  fields: Record<VaccinationField, string>;
  /** Every dose up to this certificate's, in dose order. */
  vaxEvents: VaxEvent[];
  /** The credential's issuance date (the PDF's creation date). */
  issuedAt: Date;
}

export interface TestView {
  kind: 'test';
  fields: Record<TestField, string>;
  issuedAt: Date;
}

export type CertificateView = VaccinationView | TestView;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (value: number) => String(value).padStart(2, '0');

const parseDate = (value: string): Date | undefined => {
  const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  return Number.isNaN(date.getTime()) ? undefined : date;
};

/** Control characters would break a line of text; values are drawn on one line (or wrapped by the renderer). */
const clean = (value: string | number | undefined | null): string => {
  if (value === undefined || value === null) return NOT_AVAILABLE;
  const text = String(value)
    .replace(/\p{Cc}+/gu, ' ')
    .trim()
    .normalize('NFC');
  return text === '' ? NOT_AVAILABLE : text;
};

/** `DD-Mon-YYYY` in UTC ("10-May-2021"); a value that is not a date is shown as it is. */
export const formatDate = (value: string | undefined): string => {
  if (value === undefined || value.trim() === '') return NOT_AVAILABLE;
  const date = parseDate(value);
  if (date === undefined) return clean(value);
  return `${two(date.getUTCDate())}-${MONTHS[date.getUTCMonth()]}-${date.getUTCFullYear()}`;
};

/** `DD-Mon-YYYY HH:mm UTC` ("01-Jun-2021 08:45 UTC"). */
export const formatDateTime = (value: string | undefined): string => {
  if (value === undefined || value.trim() === '') return NOT_AVAILABLE;
  const date = parseDate(value);
  if (date === undefined) return clean(value);
  return `${formatDate(value)} ${two(date.getUTCHours())}:${two(date.getUTCMinutes())} UTC`;
};

const IDENTITY_SCHEMES: readonly [RegExp, string][] = [
  [/aadh?aar/i, 'Aadhaar'],
  [/passport/i, 'Passport'],
  [/driving|licen[cs]e/i, 'Driving Licence'],
  [/voter/i, 'Voter ID'],
  [/(^|[^a-z])pan([^a-z]|$)|pan-?card/i, 'PAN'],
  [/ration/i, 'Ration Card'],
  [/npr/i, 'NPR Smart Card'],
  [/mgnrega|nrega/i, 'MGNREGA Job Card'],
];

/**
 * The identity of the subject, masked to its last 4 characters and labelled by scheme where the
 * identifier says it (`did:in.gov.uidai.aadhaar:000011112222` → "Aadhaar XXXXXXXX2222"). When the
 * credential id is the beneficiary's reference id (no identity was given), there is nothing to show.
 */
export const formatIdentity = (subjectId: string, refId: string): string => {
  const separator = Math.max(subjectId.lastIndexOf(':'), subjectId.lastIndexOf('/'));
  let value = subjectId.slice(separator + 1);
  try {
    value = decodeURIComponent(value);
  } catch {
    // keep the raw value
  }
  value = clean(value);
  if (value === NOT_AVAILABLE || value === refId) return NOT_AVAILABLE;
  const scheme = subjectId.slice(0, Math.max(separator, 0));
  const label = IDENTITY_SCHEMES.find(([pattern]) => pattern.test(scheme))?.[1];
  const chars = [...value];
  const shown = chars.length > 4 ? 'X'.repeat(chars.length - 4) + chars.slice(-4).join('') : 'X'.repeat(chars.length);
  return label === undefined ? shown : `${label} ${shown}`;
};

/** "street, district" (DIVOC's recipientAddress), or "NA". */
export const formatAddress = (address: PostalAddress | undefined): string => {
  const parts = [address?.streetAddress, address?.district].map((part) => part?.trim()).filter(Boolean);
  return parts.length === 0 ? NOT_AVAILABLE : clean(parts.join(', '));
};

const facilityText = (facility: { name: string; address?: PostalAddress | undefined }): string =>
  clean(
    [facility.name, facility.address?.district].filter((part) => part !== undefined && part.trim() !== '').join(', '),
  );

/** "Primary Dose 2", or "Booster Dose 1" for a dose beyond the primary series. */
export const doseType = (dose: number, totalDoses: number): string =>
  dose > totalDoses ? `Booster Dose ${dose - totalDoses}` : `Primary Dose ${dose}`;

const vaxEvent = (credential: VaccinationCredential): VaxEvent => {
  const evidence = credential.evidence[0];
  return {
    dose: String(evidence.dose),
    type: doseType(evidence.dose, evidence.totalDoses),
    name: clean(evidence.vaccine),
    batch: clean(evidence.batch),
    manufacturer: clean(evidence.manufacturer),
    date: formatDate(evidence.date),
    country: clean(evidence.facility.address?.addressCountry),
  };
};

/**
 * One row per dose up to this certificate's dose: this certificate for its own dose, and for every other
 * dose the most recently issued credential of the same beneficiary among `history`.
 */
const doseHistory = (credential: VaccinationCredential, history: readonly VaccinationCredential[]): VaxEvent[] => {
  const current = credential.evidence[0].dose;
  const byDose = new Map<number, VaccinationCredential>();
  for (const other of history) {
    if (other.type[1] !== 'ProofOfVaccinationCredential') continue;
    if (other.credentialSubject.refId !== credential.credentialSubject.refId) continue;
    const dose = other.evidence[0].dose;
    if (dose >= current) continue;
    const known = byDose.get(dose);
    if (known === undefined || Date.parse(other.issuanceDate) > Date.parse(known.issuanceDate)) byDose.set(dose, other);
  }
  byDose.set(current, credential);
  return [...byDose.entries()].sort(([a], [b]) => a - b).map(([, chosen]) => vaxEvent(chosen));
};

export interface VaccinationViewOptions {
  /** The beneficiary's other active vaccination credentials (for the dose history); may include this one. */
  history?: readonly VaccinationCredential[];
  /** etcd `ICD`: the vaccine type of the ICD-11 code. */
  icd: IcdConfig;
}

const issuedAt = (credential: { issuanceDate: string }): Date => {
  const date = new Date(credential.issuanceDate);
  return Number.isNaN(date.getTime()) ? new Date(0) : date;
};

/** The view of a vaccination credential. */
export const vaccinationView = (
  credential: VaccinationCredential,
  { history = [], icd }: VaccinationViewOptions,
): VaccinationView => {
  const subject = credential.credentialSubject;
  const evidence = credential.evidence[0];
  const icdEntry = evidence.icd11Code === undefined ? undefined : icd[evidence.icd11Code];
  const dob = subject.dob !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(subject.dob) ? subject.dob : undefined;
  const age = subject.age ?? (dob === undefined ? undefined : ageAt(dob, evidence.date));
  return {
    kind: 'vaccination',
    fields: {
      name: clean(subject.name),
      age: clean(age),
      dob: formatDate(subject.dob),
      gender: clean(subject.gender),
      identity: formatIdentity(subject.id, subject.refId),
      nationality: clean(subject.nationality),
      beneficiaryId: clean(subject.refId),
      recipientAddress: formatAddress(subject.address),
      vaccine: clean(evidence.vaccine),
      icd11Code: clean(evidence.icd11Code),
      prophylaxis: clean(evidence.prophylaxis),
      vaccineType:
        icdEntry === undefined || evidence.icd11Code === undefined
          ? 'Not Available'
          : clean(`${evidence.icd11Code}, ${icdEntry.vaccineType}`),
      manufacturer: clean(evidence.manufacturer),
      batch: clean(evidence.batch),
      vaccinationDate: formatDate(evidence.date),
      dose: `${evidence.dose} of ${evidence.totalDoses}`,
      doseNumber: String(evidence.dose),
      totalDoses: String(evidence.totalDoses),
      doseType: doseType(evidence.dose, evidence.totalDoses),
      vaccinatedBy: clean(evidence.verifier?.name),
      vaccinatedAt: facilityText(evidence.facility),
      country: clean(evidence.facility.address?.addressCountry),
      certificateId: clean(evidence.certificateId),
      issuanceDate: formatDate(credential.issuanceDate),
      validFrom: formatDate(evidence.effectiveStart),
      validity: formatDate(evidence.effectiveUntil),
    },
    vaxEvents: doseHistory(credential, history),
    issuedAt: issuedAt(credential),
  };
};

/** The view of a test-result credential. */
export const testView = (credential: TestCredential): TestView => {
  const subject = credential.credentialSubject;
  const evidence = credential.evidence[0];
  return {
    kind: 'test',
    fields: {
      name: clean(subject.name),
      dob: formatDate(subject.dob),
      gender: clean(subject.gender),
      identity: formatIdentity(subject.id, subject.refId),
      nationality: clean(subject.nationality),
      beneficiaryId: clean(subject.refId),
      recipientAddress: formatAddress(subject.address),
      disease: clean(evidence.disease),
      testType: clean(evidence.testType),
      testName: clean(evidence.testName),
      manufacturer: clean(evidence.manufacturer),
      batch: clean(evidence.batch),
      sampleDate: formatDateTime(evidence.sampleCollectionTimestamp),
      resultDate: formatDateTime(evidence.resultTimestamp),
      result: clean(evidence.result),
      sampleOrigin: clean(evidence.sampleOrigin),
      verifiedBy: clean(evidence.verifier?.name),
      testedAt: facilityText(evidence.facility),
      country: clean(evidence.facility.address?.addressCountry),
      certificateId: clean(evidence.certificateId),
      issuanceDate: formatDate(credential.issuanceDate),
    },
    issuedAt: issuedAt(credential),
  };
};

/** The view of either kind of credential (the vaccination options are used for vaccination credentials). */
export const certificateView = (
  credential: VaccinationCredential | TestCredential,
  options: VaccinationViewOptions,
): CertificateView =>
  credential.type[1] === 'ProofOfVaccinationCredential'
    ? vaccinationView(credential as VaccinationCredential, options)
    : testView(credential as TestCredential);
