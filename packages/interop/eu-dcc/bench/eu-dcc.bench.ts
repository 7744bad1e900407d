/**
 * `pnpm bench eu-dcc`: EU-DCC exports per second on one core — mapping (credential + etcd maps → DCC
 * payload), schema and value-set validation, deterministic CBOR, COSE_Sign1, zlib and Base45, i.e. the
 * `HC1:` string, without the QR image — for ES256 and PS256 DSCs; verification per second; HC1 and QR sizes.
 */
import { readFileSync } from 'node:fs';
import {
  CertificationRequestV2,
  EuVaccineCodeConfig,
  EuVaccineManufConfig,
  EuVaccineProphConfig,
} from '@divoc/contracts';
import { buildVaccinationCredential } from '@divoc/credentials';
import { fmt, machine, measure, table } from '../../../../scripts/bench-kit.js';
import { readJsonFixture } from '../../../../test-fixtures/index.js';
import {
  createDscSigner,
  type EuDccExportConfig,
  exportEuDcc,
  generateDsc,
  hc1QrMatrix,
  hc1QrPng,
  trustDsc,
  verifyHc1,
} from '../src/index.js';

const etcd = (key: string) =>
  JSON.parse(readFileSync(new URL(`../../../../etcd-config/${key}.json`, import.meta.url), 'utf8'));
const requests = readJsonFixture<unknown[]>('divoc', 'certify-v3-ddcc.json').map((item) =>
  CertificationRequestV2.parse(item),
);
const credentials = requests.map((request, index) =>
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
const config: EuDccExportConfig = {
  certificateIssuer: 'Ministry of Health and Family Welfare, India',
  maps: {
    euVaccineCode: EuVaccineCodeConfig.parse(etcd('euVaccineCode')),
    euVaccineProph: EuVaccineProphConfig.parse(etcd('euVaccineProph')),
    euVaccineManuf: EuVaccineManufConfig.parse(etcd('euVaccineManuf')),
  },
  expiryMonths: 12,
};
const names = { fn: 'Raghavan', fnt: 'RAGHAVAN', gn: 'Ananya', gnt: 'ANANYA' };

console.log(
  `machine: ${machine()}; one Node thread${process.env.BENCH_CPU ? ` pinned to CPU ${process.env.BENCH_CPU}` : ''}`,
);
const rows: (string | number)[][] = [
  [
    'DSC',
    'export/s (map+sign+encode)',
    'export ms',
    'verify/s',
    'HC1 chars',
    'QR version (ECC Q)',
    'QR matrix ms',
    'PNG ms',
  ],
];
for (const algorithm of ['ES256', 'PS256'] as const) {
  const dsc = await generateDsc({
    subject: { C: 'IN', O: 'MoHFW', CN: `bench ${algorithm}` },
    algorithm,
    rsaModulusLength: 3072,
  });
  const signer = createDscSigner({ certificate: dsc.certificatePem, privateKey: dsc.privateKeyPem });
  const trusted = [trustDsc(dsc.certificatePem)];
  let i = 0;
  const exported = await measure(
    () => exportEuDcc(credentials[i++ % credentials.length] as never, names, config, signer),
    3,
  );
  const { hc1 } = exportEuDcc(credentials[1] as never, names, config, signer);
  const verified = await measure(() => verifyHc1(hc1, { trusted }), 2);
  const matrix = await measure(() => hc1QrMatrix(hc1), 1, 20);
  const png = await measure(() => hc1QrPng(hc1), 1, 20);
  rows.push([
    algorithm,
    fmt(exported.perSecond),
    fmt(exported.meanMs, 3),
    fmt(verified.perSecond),
    hc1.length,
    hc1QrMatrix(hc1).version,
    fmt(matrix.meanMs, 2),
    fmt(png.meanMs, 2),
  ]);
}
console.log(table(rows));
