import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type CertificateTemplate,
  type CertificationRequestV2,
  type IcdConfig,
  TestCertificateTemplate,
  type TestCertificationRequest,
  VaccineCertificateTemplate,
} from '@divoc/contracts';
import {
  buildTestCredential,
  buildVaccinationCredential,
  type CredentialConfig,
  generateSigningKey,
  signCredential,
  type TrustedKey,
} from '@divoc/credentials';
import { readJsonFixture } from '../../../test-fixtures/index.js';

const etcdConfig = <T>(key: string): T =>
  JSON.parse(readFileSync(new URL(`../../../etcd-config/${key}.json`, import.meta.url), 'utf8')) as T;

export const icd = etcdConfig<IcdConfig>('ICD');
export const vaccinationTemplate: CertificateTemplate = VaccineCertificateTemplate.parse(
  etcdConfig('vaccineCertificateTemplate'),
);
export const testTemplate: CertificateTemplate = TestCertificateTemplate.parse(etcdConfig('testCertificateTemplate'));
export const rawTemplate = (kind: 'vaccination' | 'test'): any =>
  etcdConfig(kind === 'vaccination' ? 'vaccineCertificateTemplate' : 'testCertificateTemplate');

export const ddccRequests = readJsonFixture<CertificationRequestV2[]>('divoc', 'certify-v3-ddcc.json');
export const testRequests = readJsonFixture<TestCertificationRequest[]>('divoc', 'test-certify.json');

export const config: CredentialConfig = {
  issuer: 'did:web:divoc.example',
  evidenceBaseUrl: 'https://divoc.example/vaccine/',
  infoUrl: 'https://divoc.example/learn',
  facilityCountryCode: 'IN',
  identityRejectionPattern: /^NA$|^.?$/,
  identityPrefix: 'did:india',
  icd,
  vaccineIcd: etcdConfig('VACCINE_ICD'),
};

export const key = generateSigningKey('ED25519');
export const trustedKeys: TrustedKey[] = [{ ...key, controller: config.issuer }];

/** The v3 DDCC fixture's two doses, signed, issued on the day of each dose. */
export const signedDoses = async () =>
  Promise.all(
    ddccRequests.map((request, index) => {
      const issuanceDate = new Date(request.vaccination.date);
      return signCredential(
        buildVaccinationCredential(
          request,
          'v3',
          { certificateId: `06FSSQK3XWZ7KMHB33BR${index + 1}`, issuanceDate },
          config,
        ),
        { key, created: issuanceDate },
      );
    }),
  );

export const signedTest = async () => {
  const request = testRequests[0] as TestCertificationRequest;
  const issuanceDate = new Date(request.testDetails.resultTimestamp);
  return signCredential(
    buildTestCredential(request, { certificateId: '07TSTQK3XWZ7KMHB33BR9', issuanceDate }, config),
    {
      key,
      created: issuanceDate,
    },
  );
};

/** Runs a poppler tool on a PDF written to a temporary directory. */
const withPdf = <T>(pdf: Uint8Array, run: (file: string, directory: string) => T): T => {
  const directory = mkdtempSync(join(tmpdir(), 'divoc-documents-'));
  try {
    const file = join(directory, 'certificate.pdf');
    writeFileSync(file, pdf);
    return run(file, directory);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
};

/** `pdftotext -layout`, NFC-normalised. */
export const pdfText = (pdf: Uint8Array): string =>
  withPdf(pdf, (file) => execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' })).normalize('NFC');

/** The first page as PNG, rasterised by `pdftoppm` at `dpi`. */
export const pdfPng = (pdf: Uint8Array, dpi: number): Buffer =>
  withPdf(pdf, (file, directory) => {
    execFileSync('pdftoppm', [
      '-png',
      '-r',
      String(dpi),
      '-f',
      '1',
      '-l',
      '1',
      '-singlefile',
      file,
      join(directory, 'page'),
    ]);
    return readFileSync(join(directory, 'page.png'));
  });
