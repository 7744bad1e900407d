import type { CertificationRequestV2, TestCertificationRequest } from '@divoc/contracts';
import { readJsonFixture } from '../../../test-fixtures/index.js';
import type { CredentialConfig } from '../src/index.js';

export const ddccRequests = readJsonFixture<CertificationRequestV2[]>('divoc', 'certify-v3-ddcc.json');
export const v1Requests = readJsonFixture<CertificationRequestV2[]>('divoc', 'certify-v1.json');
export const testRequests = readJsonFixture<TestCertificationRequest[]>('divoc', 'test-certify.json');

export const config: CredentialConfig = {
  issuer: 'did:web:divoc.example',
  evidenceBaseUrl: 'https://divoc.example/vaccine/',
  infoUrl: 'https://divoc.example/learn',
  facilityCountryCode: 'IN',
  identityRejectionPattern: /^NA$|^.?$/,
  identityPrefix: 'did:india',
  icd: readJsonFixture('divoc', 'etcd', 'ICD.json'),
  vaccineIcd: readJsonFixture('divoc', 'etcd', 'VACCINE_ICD.json'),
};

export const FIXED_ID = '06FSSQK3XWZ7KMHB33BR6';
export const FIXED_TIME = new Date('2021-08-09T12:00:00.000Z');
