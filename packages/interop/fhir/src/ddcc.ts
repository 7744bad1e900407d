import { findVaccine, type IcdConfig, type VaccineIcdConfig } from '@divoc/contracts';
import type { VaccinationCredential } from '@divoc/credentials';
import { countryAlpha3 } from '@divoc/eu-dcc';
import { FhirMappingError } from './errors.js';
import { nameUuid } from './ids.js';

/** Canonical base of the WHO DDCC implementation guide (1.0.x). */
export const DDCC_BASE = 'http://smart.who.int/ddcc';
export const ICD11_SYSTEM = 'http://id.who.int/icd11/mms';
export const LOINC_SYSTEM = 'http://loinc.org';
/** ICD-11 MMS RA01, COVID-19: the disease targeted. */
export const COVID_19_ICD11 = 'RA01';
/** Our own code system for brand names (the DDCC IG leaves the brand coding to the issuer). */
export const BRAND_SYSTEM = 'https://divoc-ts.org/fhir/CodeSystem/vaccine-brand';

export const DDCC_PROFILE = {
  document: `${DDCC_BASE}/StructureDefinition/DDCCVSDocument`,
  composition: `${DDCC_BASE}/StructureDefinition/DDCCVSComposition`,
  patient: `${DDCC_BASE}/StructureDefinition/DDCCPatient`,
  organization: `${DDCC_BASE}/StructureDefinition/DDCCOrganization`,
  immunization: `${DDCC_BASE}/StructureDefinition/DDCCImmunization`,
  documentReferenceQr: `${DDCC_BASE}/StructureDefinition/DDCCDocumentReferenceQR`,
} as const;

export const DDCC_EXTENSION = {
  brand: `${DDCC_BASE}/StructureDefinition/DDCCEventBrand`,
  country: `${DDCC_BASE}/StructureDefinition/DDCCCountryOfEvent`,
  validFrom: `${DDCC_BASE}/StructureDefinition/DDCCVaccineValidFrom`,
} as const;

export const QR_CATEGORY_SYSTEM = `${DDCC_BASE}/CodeSystem/DDCC-QR-Category-Usage-CodeSystem`;
export const QR_FORMAT_SYSTEM = `${DDCC_BASE}/CodeSystem/DDCC-QR-Format-CodeSystem`;

/** A FHIR resource as JSON; the builder fills only what DDCC:VS needs. */
export type FhirResource = { resourceType: string; id: string } & Record<string, unknown>;

export interface FhirBundle {
  resourceType: 'Bundle';
  id: string;
  meta: { profile: string[] };
  identifier: { system: string; value: string };
  type: 'document';
  timestamp: string;
  entry: { fullUrl: string; resource: FhirResource }[];
}

/** A QR code to carry in the document (DDCCDocumentReferenceQR). */
export interface DdccQrAttachment {
  /** DDCC QR category: `who`, `dcc`, `icao`, `shc`, `divoc`, … */
  category: string;
  /** The PNG image. */
  png: Uint8Array;
  /** The serialised QR content (e.g. the `HC1:` or `shc:/` text, or the DIVOC zip bytes). */
  content: string | Uint8Array;
  /** MIME type of `content`; default text/plain for text, application/zip for bytes. */
  contentType?: string;
}

export interface DdccOptions {
  /** The public health authority issuing the certificate (DIVOC: `FHIR_PUBLIC_HEALTH_AUTHORITY`). */
  authority: { name: string; url?: string | undefined };
  /** System URI of the certificate identifier; default `urn:divoc:certificate-id`. */
  identifierSystem?: string | undefined;
  /** `ICD` (etcd), for the display of the ICD-11 code. */
  icd?: IcdConfig | undefined;
  /** `VACCINE_ICD` (etcd), for credentials without `icd11Code` (v1 API). */
  vaccineIcd?: VaccineIcdConfig | undefined;
  /** QR codes to carry as DocumentReferences. */
  qr?: readonly DdccQrAttachment[] | undefined;
}

const GENDERS: Record<string, string> = { male: 'male', m: 'male', female: 'female', f: 'female', other: 'other' };

const FULL_DATE = /^\d{4}-\d{2}-\d{2}$/;

const compact = <T extends Record<string, unknown>>(value: T): T =>
  Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined)) as T;

const icd11 = (credential: VaccinationCredential, options: DdccOptions): string => {
  const evidence = credential.evidence[0];
  const code =
    evidence.icd11Code ??
    (options.vaccineIcd ? findVaccine(options.vaccineIcd, evidence.vaccine)?.icd11Code : undefined);
  if (code === undefined) {
    throw new FhirMappingError(
      'Immunization.vaccineCode',
      evidence.vaccine,
      `vaccine "${evidence.vaccine}" has no ICD-11 code: add it to the etcd key VACCINE_ICD`,
      'VACCINE_ICD',
    );
  }
  return code;
};

const base64 = (value: string | Uint8Array): string =>
  (typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value)).toString('base64');

/**
 * The WHO DDCC:VS document Bundle (type `document`) of one vaccination credential: Composition (first, as
 * documents require), Patient, Organization (the issuer), Immunization and, when QR codes are given, one
 * DDCCDocumentReferenceQR each. Ids are name-based UUIDs of the certificate id, and the timestamp is the
 * credential's issuance date, so the same credential always gives the same document.
 */
export const buildDdccDocument = (credential: VaccinationCredential, options: DdccOptions): FhirBundle => {
  const subject = credential.credentialSubject;
  const evidence = credential.evidence[0];
  const certificateId = evidence.certificateId;
  const id = (kind: string) => nameUuid(`${certificateId}/${kind}`);
  const url = (uuid: string) => `urn:uuid:${uuid}`;
  const ids = {
    bundle: id('Bundle'),
    composition: id('Composition'),
    patient: id('Patient'),
    organization: id('Organization'),
    immunization: id('Immunization'),
  };
  const qrIds = (options.qr ?? []).map((qr, index) => id(`DocumentReference/${index}/${qr.category}`));
  const identifier = { system: options.identifierSystem ?? 'urn:divoc:certificate-id', value: certificateId };
  const issued = new Date(credential.issuanceDate).toISOString();
  const country = countryAlpha3(evidence.facility.address?.addressCountry ?? '');
  if (country === undefined) {
    throw new FhirMappingError(
      'Immunization.extension[country]',
      evidence.facility.address?.addressCountry ?? '',
      `the facility country "${evidence.facility.address?.addressCountry ?? ''}" is not an ISO 3166-1 code or English country name`,
    );
  }
  const vaccineCode = icd11(credential, options);

  const composition: FhirResource = {
    resourceType: 'Composition',
    id: ids.composition,
    meta: { profile: [DDCC_PROFILE.composition] },
    identifier,
    status: 'final',
    type: { coding: [{ system: LOINC_SYSTEM, code: '82593-5', display: 'Immunization summary report' }] },
    subject: { reference: url(ids.patient) },
    date: issued,
    author: [{ reference: url(ids.organization) }],
    title: 'Digital Documentation of COVID-19 Certificate (DDCC)',
    attester: [{ mode: 'official', party: { reference: url(ids.organization) } }],
    event: [{ period: { start: evidence.effectiveStart, end: evidence.effectiveUntil } }],
    section: [
      {
        code: { coding: [{ system: LOINC_SYSTEM, code: '11369-6', display: 'History of Immunization Narrative' }] },
        focus: { reference: url(ids.immunization) },
        entry: [{ reference: url(ids.immunization) }, ...qrIds.map((qrId) => ({ reference: url(qrId) }))],
      },
    ],
  };

  const gender = GENDERS[(subject.gender ?? '').trim().toLowerCase()];
  const patient: FhirResource = compact({
    resourceType: 'Patient',
    id: ids.patient,
    meta: { profile: [DDCC_PROFILE.patient] },
    identifier: [{ system: 'urn:ietf:rfc:3986', value: subject.id, assigner: { reference: url(ids.organization) } }],
    name: [{ use: 'official', text: subject.name }],
    gender,
    birthDate: subject.dob !== undefined && FULL_DATE.test(subject.dob) ? subject.dob : undefined,
  });

  const organization: FhirResource = compact({
    resourceType: 'Organization',
    id: ids.organization,
    meta: { profile: [DDCC_PROFILE.organization] },
    name: options.authority.name,
    telecom: options.authority.url === undefined ? undefined : [{ system: 'url', value: options.authority.url }],
  });

  const validFrom = evidence.effectiveStart.slice(0, 10);
  const immunization: FhirResource = compact({
    resourceType: 'Immunization',
    id: ids.immunization,
    meta: { profile: [DDCC_PROFILE.immunization] },
    extension: [
      {
        url: DDCC_EXTENSION.brand,
        valueCoding: { system: BRAND_SYSTEM, code: evidence.vaccine, display: evidence.vaccine },
      },
      { url: DDCC_EXTENSION.country, valueCode: country },
      ...(FULL_DATE.test(validFrom) ? [{ url: DDCC_EXTENSION.validFrom, valueDate: validFrom }] : []),
    ],
    status: 'completed',
    vaccineCode: {
      coding: [compact({ system: ICD11_SYSTEM, code: vaccineCode, display: options.icd?.[vaccineCode]?.icd11Term })],
    },
    patient: { reference: url(ids.patient) },
    occurrenceDateTime: evidence.date,
    location: { display: evidence.facility.name },
    manufacturer: evidence.manufacturer === undefined ? undefined : { display: evidence.manufacturer },
    lotNumber: evidence.batch,
    performer: [
      { actor: evidence.verifier ? { display: evidence.verifier.name } : { reference: url(ids.organization) } },
    ],
    protocolApplied: [
      {
        authority: { reference: url(ids.organization) },
        targetDisease: [{ coding: [{ system: ICD11_SYSTEM, code: COVID_19_ICD11, display: 'COVID-19' }] }],
        doseNumberPositiveInt: evidence.dose,
        seriesDosesPositiveInt: evidence.totalDoses,
      },
    ],
  });

  const documentReferences: FhirResource[] = (options.qr ?? []).map((qr, index) => ({
    resourceType: 'DocumentReference',
    id: qrIds[index] as string,
    meta: { profile: [DDCC_PROFILE.documentReferenceQr] },
    status: 'current',
    category: [{ coding: [{ system: QR_CATEGORY_SYSTEM, code: qr.category }] }],
    subject: { reference: url(ids.patient) },
    authenticator: { reference: url(ids.organization) },
    content: [
      {
        attachment: { contentType: 'image/png', data: base64(qr.png) },
        format: { system: QR_FORMAT_SYSTEM, code: 'image' },
      },
      {
        attachment: {
          contentType: qr.contentType ?? (typeof qr.content === 'string' ? 'text/plain' : 'application/zip'),
          data: base64(qr.content),
        },
        format: { system: QR_FORMAT_SYSTEM, code: 'serialized' },
      },
    ],
  }));

  return {
    resourceType: 'Bundle',
    id: ids.bundle,
    meta: { profile: [DDCC_PROFILE.document] },
    identifier,
    type: 'document',
    timestamp: issued,
    entry: [composition, patient, organization, immunization, ...documentReferences].map((resource) => ({
      fullUrl: url(resource.id),
      resource,
    })),
  };
};
