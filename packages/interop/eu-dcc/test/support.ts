import { readFileSync } from 'node:fs';
import {
  CertificationRequestV2,
  EuVaccineCodeConfig,
  EuVaccineManufConfig,
  EuVaccineProphConfig,
  type IcdConfig,
  type VaccineIcdConfig,
} from '@divoc/contracts';
import { buildVaccinationCredential, type VaccinationCredential } from '@divoc/credentials';
import { readJsonFixture } from '../../../../test-fixtures/index.js';
import {
  createDscSigner,
  type EuDccExportConfig,
  type EuDccMaps,
  type GeneratedDsc,
  generateDsc,
} from '../src/index.js';

export const readEtcdDefault = <T = unknown>(key: string): T =>
  JSON.parse(readFileSync(new URL(`../../../../etcd-config/${key}.json`, import.meta.url), 'utf8')) as T;

export const icd = readEtcdDefault<IcdConfig>('ICD');
export const vaccineIcd = readEtcdDefault<VaccineIcdConfig>('VACCINE_ICD');

/** The bundled defaults, parsed by the contracts schemas exactly as the config registry does. */
export const maps: EuDccMaps = {
  euVaccineCode: EuVaccineCodeConfig.parse(readEtcdDefault('euVaccineCode')),
  euVaccineProph: EuVaccineProphConfig.parse(readEtcdDefault('euVaccineProph')),
  euVaccineManuf: EuVaccineManufConfig.parse(readEtcdDefault('euVaccineManuf')),
};

export const ddccRequests = readJsonFixture<unknown[]>('divoc', 'certify-v3-ddcc.json').map((item) =>
  CertificationRequestV2.parse(item),
);

export const CERTIFICATE_IDS = ['06FSSQK3XWZ7KMHB33BR6', '06FSSQK3XWZ7KMHB33BR7'] as const;

/** The v3 (DDCC) credential of fixture dose `index` (0: dose 1, 1: dose 2), built as the signer builds it. */
export const credentialFor = (
  index: number,
  change: (request: CertificationRequestV2) => CertificationRequestV2 = (request) => request,
): VaccinationCredential =>
  buildVaccinationCredential(
    change(structuredClone(ddccRequests[index] as CertificationRequestV2)),
    'v3',
    { certificateId: CERTIFICATE_IDS[index] as string, issuanceDate: new Date('2021-08-09T12:00:00Z') },
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

export const names = { fn: 'Raghavan', fnt: 'RAGHAVAN', gn: 'Ananya', gnt: 'ANANYA' };

export const exportConfig: EuDccExportConfig = {
  certificateIssuer: 'Ministry of Health and Family Welfare, India',
  maps,
  expiryMonths: 12,
};

export const ISSUED_AT = new Date('2021-08-10T00:00:00Z');

let es256: Promise<GeneratedDsc> | undefined;
let ps256: Promise<GeneratedDsc> | undefined;

const subject = { C: 'IN', ST: 'Delhi', L: 'New Delhi', O: 'MoHFW', OU: 'DIVOC', CN: 'DIVOC DSC test' };

/** One test DSC per algorithm, valid around ISSUED_AT, for vaccination certificates. */
export const testDsc = (algorithm: 'ES256' | 'PS256' = 'ES256'): Promise<GeneratedDsc> => {
  const make = () =>
    generateDsc({
      subject,
      algorithm,
      rsaModulusLength: 2048,
      notBefore: new Date('2021-01-01T00:00:00Z'),
      validityDays: 730,
      types: ['v'],
    });
  if (algorithm === 'ES256') es256 ??= make();
  else ps256 ??= make();
  return (algorithm === 'ES256' ? es256 : ps256) as Promise<GeneratedDsc>;
};

export const testSigner = async (algorithm: 'ES256' | 'PS256' = 'ES256') => {
  const dsc = await testDsc(algorithm);
  return createDscSigner({ certificate: dsc.certificatePem, privateKey: dsc.privateKeyPem });
};
