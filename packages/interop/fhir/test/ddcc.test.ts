import { readFileSync } from 'node:fs';
import { CertificationRequestV2, type IcdConfig, type VaccineIcdConfig } from '@divoc/contracts';
import { buildVaccinationCredential, type VaccinationCredential } from '@divoc/credentials';
import { describe, expect, it } from 'vitest';
import { readJsonFixture } from '../../../../test-fixtures/index.js';
import {
  buildDdccDocument,
  DDCC_EXTENSION,
  DDCC_PROFILE,
  type FhirBundle,
  FhirMappingError,
  type FhirResource,
  ICD11_SYSTEM,
  nameUuid,
} from '../src/index.js';

const etcd = <T>(key: string): T =>
  JSON.parse(readFileSync(new URL(`../../../../etcd-config/${key}.json`, import.meta.url), 'utf8')) as T;
const icd = etcd<IcdConfig>('ICD');
const vaccineIcd = etcd<VaccineIcdConfig>('VACCINE_ICD');
const requests = readJsonFixture<unknown[]>('divoc', 'certify-v3-ddcc.json').map((item) =>
  CertificationRequestV2.parse(item),
);

const credentialFor = (index: number, apiVersion: 'v1' | 'v3' = 'v3'): VaccinationCredential =>
  buildVaccinationCredential(
    requests[index] as CertificationRequestV2,
    apiVersion,
    { certificateId: `06FSSQK3XWZ7KMHB33BR${index + 6}`, issuanceDate: new Date('2021-08-09T12:00:00Z') },
    {
      issuer: 'did:web:divoc.example',
      evidenceBaseUrl: 'https://divoc.example/vaccine/',
      facilityCountryCode: 'IN',
      identityRejectionPattern: /^NA$|^.?$/,
      identityPrefix: 'did:india',
      icd,
      vaccineIcd,
    },
  );

const options = { authority: { name: 'Ministry of Health and Family Welfare, India' }, icd };

const resourceOf = (bundle: FhirBundle, type: string): FhirResource => {
  const found = bundle.entry.find((entry) => entry.resource.resourceType === type);
  if (found === undefined) throw new Error(`no ${type}`);
  return found.resource;
};

const get = (value: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], value);

/** Structure checks of a DDCC:VS document: references resolve, required DDCC elements present. */
const documentProblems = (bundle: FhirBundle): string[] => {
  const problems: string[] = [];
  const urls = new Set(bundle.entry.map((entry) => entry.fullUrl));
  if (bundle.type !== 'document') problems.push('Bundle.type is not document');
  if (!bundle.identifier?.value) problems.push('Bundle.identifier is missing');
  if (!bundle.timestamp) problems.push('Bundle.timestamp is missing');
  if (urls.size !== bundle.entry.length) problems.push('two entries share a fullUrl');
  for (const entry of bundle.entry) {
    if (entry.fullUrl !== `urn:uuid:${entry.resource.id}`)
      problems.push(`${entry.fullUrl} does not match its resource id`);
  }
  if (bundle.entry[0]?.resource.resourceType !== 'Composition') problems.push('the first entry is not the Composition');
  const walk = (value: unknown, path: string): void => {
    if (Array.isArray(value)) {
      for (const [index, item] of value.entries()) walk(item, `${path}[${index}]`);
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    const { reference } = value as { reference?: unknown };
    if (typeof reference === 'string' && !urls.has(reference))
      problems.push(`${path}.reference ${reference} does not resolve`);
    for (const [key, member] of Object.entries(value)) walk(member, `${path}.${key}`);
  };
  for (const entry of bundle.entry) walk(entry.resource, entry.resource.resourceType);
  const required: [string, string[]][] = [
    ['Composition', ['identifier.value', 'status', 'type.coding', 'subject.reference', 'title', 'attester', 'section']],
    ['Patient', ['name']],
    ['Organization', ['name']],
    [
      'Immunization',
      [
        'extension',
        'status',
        'vaccineCode.coding',
        'patient.reference',
        'occurrenceDateTime',
        'location.display',
        'lotNumber',
        'protocolApplied',
      ],
    ],
  ];
  for (const [type, paths] of required) {
    const resource = bundle.entry.find((entry) => entry.resource.resourceType === type)?.resource;
    if (resource === undefined) {
      problems.push(`no ${type}`);
      continue;
    }
    if (!(get(resource, 'meta.profile') as string[] | undefined)?.[0]?.startsWith('http://smart.who.int/ddcc/')) {
      problems.push(`${type} does not claim a DDCC profile`);
    }
    for (const path of paths) if (get(resource, path) === undefined) problems.push(`${type}.${path} is missing`);
  }
  const composition = resourceOf(bundle, 'Composition');
  const immunization = resourceOf(bundle, 'Immunization');
  const immunizationUrl = bundle.entry.find((entry) => entry.resource === immunization)?.fullUrl;
  const section = (composition.section as { focus: { reference: string } }[])[0];
  if (section?.focus.reference !== immunizationUrl)
    problems.push('the vaccination section does not focus on the Immunization');
  const name = (resourceOf(bundle, 'Patient').name as { text?: string }[])[0];
  if (!name?.text) problems.push('Patient.name.text is missing');
  const extensions = (immunization.extension as { url: string }[]).map((extension) => extension.url);
  for (const url of [DDCC_EXTENSION.brand, DDCC_EXTENSION.country]) {
    if (!extensions.includes(url)) problems.push(`Immunization lacks extension ${url}`);
  }
  if (!immunization.manufacturer && !extensions.some((url) => url.endsWith('DDCCVaccineMarketAuthorization'))) {
    problems.push('Immunization has neither manufacturer nor market authorisation holder');
  }
  const applied = (immunization.protocolApplied as Record<string, unknown>[])[0];
  if (typeof applied?.doseNumberPositiveInt !== 'number')
    problems.push('protocolApplied.doseNumberPositiveInt is missing');
  if (!get(applied, 'authority.reference')) problems.push('protocolApplied.authority is missing');
  return problems;
};

describe('WHO DDCC:VS document bundle', () => {
  it('has every required DDCC element, and every reference resolves inside the bundle', () => {
    const bundle = buildDdccDocument(credentialFor(1), options);
    expect(documentProblems(bundle)).toEqual([]);
    expect(bundle.entry.map((entry) => entry.resource.resourceType)).toEqual([
      'Composition',
      'Patient',
      'Organization',
      'Immunization',
    ]);
    expect(bundle.meta.profile).toEqual([DDCC_PROFILE.document]);
  });

  it('maps the credential: ICD-11 vaccine code, brand and country (alpha-3) extensions, lot, date, doses, RA01', () => {
    const bundle = buildDdccDocument(credentialFor(1), options);
    const immunization = resourceOf(bundle, 'Immunization');
    expect(immunization.vaccineCode).toEqual({
      coding: [{ system: ICD11_SYSTEM, code: 'XM9QW8', display: 'COVID-19 vaccine, non-replicating viral vector' }],
    });
    expect(immunization.extension).toEqual([
      { url: DDCC_EXTENSION.brand, valueCoding: expect.objectContaining({ code: 'Covishield' }) },
      { url: DDCC_EXTENSION.country, valueCode: 'IND' },
      { url: DDCC_EXTENSION.validFrom, valueDate: '2021-08-09' },
    ]);
    expect(immunization).toMatchObject({
      status: 'completed',
      lotNumber: '4121Z098',
      occurrenceDateTime: '2021-08-09T10:15:00.000Z',
      location: { display: 'Primary Health Centre Indiranagar' },
      manufacturer: { display: 'Serum Institute of India' },
      performer: [{ actor: { display: 'Dr. Priya Nair' } }],
      protocolApplied: [
        {
          targetDisease: [{ coding: [{ system: ICD11_SYSTEM, code: 'RA01', display: 'COVID-19' }] }],
          doseNumberPositiveInt: 2,
          seriesDosesPositiveInt: 2,
        },
      ],
    });
    expect(resourceOf(bundle, 'Patient')).toMatchObject({
      name: [{ use: 'official', text: 'Ananya Raghavan' }],
      gender: 'female',
      birthDate: '1988-03-14',
      identifier: [{ system: 'urn:ietf:rfc:3986', value: 'did:in.gov.uidai.aadhaar:000011112222' }],
    });
    expect(resourceOf(bundle, 'Composition')).toMatchObject({
      identifier: { value: '06FSSQK3XWZ7KMHB33BR7' },
      type: { coding: [{ system: 'http://loinc.org', code: '82593-5' }] },
      event: [{ period: { start: '2021-08-09', end: '2022-08-09' } }],
    });
    expect(resourceOf(bundle, 'Organization').name).toBe('Ministry of Health and Family Welfare, India');
  });

  it('is deterministic: ids derive from the certificate id, never random', () => {
    const first = buildDdccDocument(credentialFor(0), options);
    expect(buildDdccDocument(credentialFor(0), options)).toEqual(first);
    expect(first.id).toBe(nameUuid('06FSSQK3XWZ7KMHB33BR6/Bundle'));
    expect(first.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const other = buildDdccDocument(credentialFor(1), options);
    const ids = (bundle: FhirBundle) => bundle.entry.map((entry) => entry.resource.id);
    expect(ids(other).some((id) => ids(first).includes(id))).toBe(false);
  });

  it('carries QR codes as DDCCDocumentReferenceQR (image + serialised content) referenced from the section', () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47]);
    const bundle = buildDdccDocument(credentialFor(0), {
      ...options,
      qr: [{ category: 'dcc', png, content: 'HC1:ABC' }],
    });
    expect(documentProblems(bundle)).toEqual([]);
    const reference = resourceOf(bundle, 'DocumentReference');
    expect(reference).toMatchObject({
      status: 'current',
      category: [{ coding: [{ code: 'dcc' }] }],
      content: [
        {
          attachment: { contentType: 'image/png', data: Buffer.from(png).toString('base64') },
          format: { code: 'image' },
        },
        {
          attachment: { contentType: 'text/plain', data: Buffer.from('HC1:ABC').toString('base64') },
          format: { code: 'serialized' },
        },
      ],
    });
    const entries = (resourceOf(bundle, 'Composition').section as { entry: { reference: string }[] }[])[0]?.entry;
    expect(entries?.map((entry) => entry.reference)).toContain(`urn:uuid:${reference.id}`);
  });

  it('the structure check catches a dangling reference and a missing element', () => {
    const bundle = structuredClone(buildDdccDocument(credentialFor(0), options));
    const immunization = resourceOf(bundle, 'Immunization');
    immunization.patient = { reference: 'urn:uuid:00000000-0000-5000-8000-000000000000' };
    delete immunization.lotNumber;
    expect(documentProblems(bundle)).toEqual([
      'Immunization.patient.reference urn:uuid:00000000-0000-5000-8000-000000000000 does not resolve',
      'Immunization.lotNumber is missing',
    ]);
  });

  it('looks up the ICD-11 code of a v1 credential in VACCINE_ICD, or names that key when it cannot', () => {
    const v1 = credentialFor(0, 'v1');
    expect(v1.evidence[0].icd11Code).toBeUndefined();
    const bundle = buildDdccDocument(v1, { ...options, vaccineIcd });
    expect((resourceOf(bundle, 'Immunization').vaccineCode as { coding: { code: string }[] }).coding[0]?.code).toBe(
      'XM9QW8',
    );
    expect(() => buildDdccDocument(v1, options)).toThrow(FhirMappingError);
    expect(() => buildDdccDocument(v1, options)).toThrow(expect.objectContaining({ etcdKey: 'VACCINE_ICD' }));
  });
});
