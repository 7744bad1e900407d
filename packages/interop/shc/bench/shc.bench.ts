/**
 * `pnpm bench shc`: SMART Health Card exports per second on one core — FHIR bundle from the credentials,
 * minified JSON, raw DEFLATE and the ES256 compact JWS (jose), without the QR image — plus verification per
 * second and the JWS sizes of the DDCC fixture (one dose and both doses; 1195 is the single-QR limit).
 */
import { readFileSync } from 'node:fs';
import { CertificationRequestV2, ShcVaccineCodeConfig } from '@divoc/contracts';
import { buildVaccinationCredential, type VaccinationCredential } from '@divoc/credentials';
import { fmt, machine, measure, table } from '../../../../scripts/bench-kit.js';
import { readJsonFixture } from '../../../../test-fixtures/index.js';
import { exportShc, generateShcKey, shcJwks, shcQrMatrix, verifyShc } from '../src/index.js';

const etcd = (key: string) =>
  JSON.parse(readFileSync(new URL(`../../../../etcd-config/${key}.json`, import.meta.url), 'utf8'));
const requests = readJsonFixture<unknown[]>('divoc', 'certify-v3-ddcc.json').map((item) =>
  CertificationRequestV2.parse(item),
);
const credentials: VaccinationCredential[] = requests.map((request, index) =>
  buildVaccinationCredential(
    request,
    'v3',
    { certificateId: `06FSSQK3XWZ7KMHB33BR${index + 6}`, issuanceDate: new Date('2021-08-09T12:00:00Z') },
    {
      issuer: 'did:web:divoc.example',
      evidenceBaseUrl: 'https://divoc.example/vaccine/',
      facilityCountryCode: 'IN',
      identityRejectionPattern: /^NA$|^.?$/,
      identityPrefix: 'did:india',
      icd: etcd('ICD'),
      vaccineIcd: etcd('VACCINE_ICD'),
    },
  ),
);
const config = {
  issuer: 'https://divoc.example',
  maps: { shcVaccineCode: ShcVaccineCodeConfig.parse(etcd('shcVaccineCode')) },
};
const key = await generateShcKey();
const jwks = shcJwks([key]);

console.log(
  `machine: ${machine()}; one Node thread${process.env.BENCH_CPU ? ` pinned to CPU ${process.env.BENCH_CPU}` : ''}`,
);
const rows: (string | number)[][] = [
  ['card', 'export/s (bundle+deflate+sign)', 'export ms', 'verify/s', 'JWS chars', 'QR version (ECC L)'],
];
for (const [label, doses] of [
  ['dose 1', [credentials[0]]],
  ['dose 2', [credentials[1]]],
  ['doses 1+2', credentials],
] as [string, VaccinationCredential[]][]) {
  const exported = await measure(() => exportShc(doses, config, key), 3);
  const { jws } = await exportShc(doses, config, key);
  const verified = await measure(() => verifyShc(jws, { jwks }), 2);
  rows.push([
    label,
    fmt(exported.perSecond),
    fmt(exported.meanMs, 3),
    fmt(verified.perSecond),
    jws.length,
    shcQrMatrix(jws).version,
  ]);
}
console.log(table(rows));
