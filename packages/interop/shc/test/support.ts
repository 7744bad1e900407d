import { readFileSync } from 'node:fs';
import { CertificationRequestV2, type IcdConfig, ShcVaccineCodeConfig, type VaccineIcdConfig } from '@divoc/contracts';
import { buildVaccinationCredential, type VaccinationCredential } from '@divoc/credentials';
import { readJsonFixture } from '../../../../test-fixtures/index.js';
import type { ShcMaps } from '../src/index.js';

export const readEtcdDefault = <T = unknown>(key: string): T =>
  JSON.parse(readFileSync(new URL(`../../../../etcd-config/${key}.json`, import.meta.url), 'utf8')) as T;

export const vaccineIcd = readEtcdDefault<VaccineIcdConfig>('VACCINE_ICD');

export const maps: ShcMaps = { shcVaccineCode: ShcVaccineCodeConfig.parse(readEtcdDefault('shcVaccineCode')) };

const requests = readJsonFixture<unknown[]>('divoc', 'certify-v3-ddcc.json').map((item) =>
  CertificationRequestV2.parse(item),
);

/** The v3 (DDCC) credential of fixture dose `index` (0: dose 1, 1: dose 2). */
export const credentialFor = (
  index: number,
  change: (request: CertificationRequestV2) => CertificationRequestV2 = (request) => request,
): VaccinationCredential =>
  buildVaccinationCredential(
    change(structuredClone(requests[index] as CertificationRequestV2)),
    'v3',
    { certificateId: `06FSSQK3XWZ7KMHB33BR${index + 6}`, issuanceDate: new Date('2021-08-09T12:00:00Z') },
    {
      issuer: 'did:web:divoc.example',
      evidenceBaseUrl: 'https://divoc.example/vaccine/',
      facilityCountryCode: 'IN',
      identityRejectionPattern: /^NA$|^.?$/,
      identityPrefix: 'did:india',
      icd: readEtcdDefault<IcdConfig>('ICD'),
      vaccineIcd,
    },
  );

export const ISSUER = 'https://divoc.example';
export const ISSUED_AT = new Date('2021-08-10T00:00:00Z');
