/**
 * `pnpm bench credentials`: credentials built and signed per second, verified per second, and the QR
 * code (zip, module matrix, 1-bit PNG) for the v3 DDCC fixture, for both key types, on one core.
 */
import { readFileSync } from 'node:fs';
import { CertificationRequestV2 } from '@divoc/contracts';
import { fmt, machine, measure, table } from '../../../scripts/bench-kit.js';
import { readJsonFixture } from '../../../test-fixtures/index.js';
import {
  buildVaccinationCredential,
  type Canonicalizer,
  canonizeGeneric,
  createDocumentLoader,
  credentialQr,
  generateSigningKey,
  type KeyType,
  newCertificateId,
  qrMatrix,
  qrPng,
  signCredential,
  verifyCredential,
  zipCredential,
} from '../src/index.js';

const requests = readJsonFixture<unknown[]>('divoc', 'certify-v3-ddcc.json').map((item) =>
  CertificationRequestV2.parse(item),
);
const config = {
  issuer: 'did:web:divoc.example',
  evidenceBaseUrl: 'https://divoc.example/vaccine/',
  facilityCountryCode: 'IN',
  identityRejectionPattern: /^NA$|^.?$/,
  identityPrefix: 'did:india',
  icd: JSON.parse(readFileSync(new URL('../../../etcd-config/ICD.json', import.meta.url), 'utf8')),
  vaccineIcd: JSON.parse(readFileSync(new URL('../../../etcd-config/VACCINE_ICD.json', import.meta.url), 'utf8')),
};

const build = (index: number) =>
  buildVaccinationCredential(
    requests[index % requests.length] as CertificationRequestV2,
    'v3',
    { certificateId: newCertificateId(), issuanceDate: new Date() },
    config,
  );

/**
 * Uncounted calls before each signing and verifying measurement: a signer runs for millions of
 * certificates, so what matters is the rate once V8 has optimised the hot path (a few thousand calls).
 */
const WARM_UP = 3_000;

const loader = createDocumentLoader();
const genericOnly: Canonicalizer = {
  canonize: (document) => canonizeGeneric(document, loader),
  stats: { fast: 0, generic: 0, shapes: 0 },
};

console.log(
  `machine: ${machine()}; one Node thread${process.env.BENCH_CPU ? ` pinned to CPU ${process.env.BENCH_CPU}` : ''}`,
);
const rows: (string | number)[][] = [
  [
    'key',
    'build+sign/s',
    'verify/s',
    'generic c14n sign/s',
    'QR version (ECC M)',
    'zip bytes',
    'JSON bytes',
    'zip ms',
    'matrix ms',
    'PNG encode ms',
    'PNG bytes',
  ],
];
for (const type of ['ED25519', 'RSA'] as KeyType[]) {
  const key = generateSigningKey(type);
  const trustedKeys = [{ ...key, controller: config.issuer }];
  let i = 0;
  const sign = await measure(() => signCredential(build(i++), { key }), 3, WARM_UP);
  const signed = await signCredential(build(1), { key });
  const verify = await measure(() => verifyCredential(signed, { trustedKeys }), 3, WARM_UP);
  const generic = await measure(() => signCredential(build(i++), { key, canonicalizer: genericOnly }), 2, 20);
  const { bytes, matrix } = await credentialQr(signed);
  const zip = await measure(() => zipCredential(signed), 1, 50);
  const symbol = await measure(() => qrMatrix(bytes), 2, 50);
  const png = await measure(() => qrPng(matrix), 2, 50);
  rows.push([
    type,
    fmt(sign.perSecond),
    fmt(verify.perSecond),
    fmt(generic.perSecond),
    matrix.version,
    bytes.length,
    JSON.stringify(signed).length,
    fmt(zip.meanMs, 2),
    fmt(symbol.meanMs, 2),
    fmt(png.meanMs, 2),
    qrPng(matrix).length,
  ]);
}
console.log(table(rows));
