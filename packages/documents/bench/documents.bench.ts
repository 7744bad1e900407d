/**
 * `pnpm bench documents`: certificate PDFs rendered per second on one core, uncached (no PDF cache: every
 * render builds the whole document), for the default vaccination template in English and Hindi and the
 * test template, with the size of each PDF. "Same beneficiary" renders one certificate again and again;
 * "every render a new beneficiary" cycles through 200 different credentials (names, ids, QR codes), so
 * the font subsets differ from render to render. The QR symbol is computed once per credential (the
 * certificate-api caches it); the end-to-end row includes the view model, the QR zip and symbol as well.
 */
import { type CertificationRequestV2, TestCertificateTemplate, VaccineCertificateTemplate } from '@divoc/contracts';
import { buildVaccinationCredential, credentialQr, signCredential } from '@divoc/credentials';
import { fmt, machine, measure, table } from '../../../scripts/bench-kit.js';
import { renderCertificatePdf, testView, vaccinationView } from '../src/index.js';
import {
  config,
  ddccRequests,
  icd,
  key,
  rawTemplate,
  signedDoses,
  signedTest,
  testTemplate,
  vaccinationTemplate,
} from '../test/support.js';

console.log(
  `machine: ${machine()}; one Node thread${process.env.BENCH_CPU ? ` pinned to CPU ${process.env.BENCH_CPU}` : ''}`,
);

let started = performance.now();
const [dose1, dose2] = await signedDoses();
const dose2Qr = await credentialQr(dose2 as NonNullable<typeof dose2>);
const view = vaccinationView(dose2 as NonNullable<typeof dose2>, {
  history: [dose1 as NonNullable<typeof dose1>],
  icd,
});
started = performance.now();
renderCertificatePdf({ template: vaccinationTemplate, view, qr: dose2Qr.matrix, lang: 'en' });
const firstMs = performance.now() - started;

const FIRST = ['Ananya', 'Rahul', 'Priya', 'Arjun', 'Meera', 'Vikram', 'Sneha', 'Kiran', 'Farhan', 'Lakshmi'];
const LAST = ['Raghavan', 'Menon', 'Sharma', 'Iyer', 'Banerjee', 'Qureshi', 'Fernandes', 'Gill', 'Das', 'Kulkarni'];
const base = ddccRequests[1] as CertificationRequestV2;
const variants = await Promise.all(
  Array.from({ length: 200 }, async (_, index) => {
    const request: CertificationRequestV2 = {
      ...base,
      preEnrollmentCode: `BENCH-${String(index).padStart(6, '0')}`,
      recipient: {
        ...base.recipient,
        name: `${FIRST[index % 10]} ${LAST[Math.floor(index / 10) % 10]} ${String.fromCharCode(65 + (index % 26))}`,
        identity: `did:in.gov.uidai.aadhaar:${String(100000000000 + index * 7919)}`,
      },
      vaccination: { ...base.vaccination, batch: `B${(index * 104729) % 1000000}` },
    };
    const issuanceDate = new Date(request.vaccination.date);
    const credential = await signCredential(
      buildVaccinationCredential(
        request,
        'v3',
        { certificateId: `06BENCH${String(index).padStart(14, '0')}`, issuanceDate },
        config,
      ),
      { key, created: issuanceDate },
    );
    return { credential, qr: (await credentialQr(credential)).matrix, view: vaccinationView(credential, { icd }) };
  }),
);
const test = await signedTest();
const testQr = (await credentialQr(test)).matrix;
const testViewModel = testView(test);

const rows: (string | number)[][] = [['certificate', 'lang', 'renders/s', 'ms/render', 'PDF bytes']];
const row = async (name: string, lang: string, render: () => Buffer, seconds = 3) => {
  const rate = await measure(render, seconds, 100);
  rows.push([name, lang, fmt(rate.perSecond), fmt(rate.meanMs, 2), render().length]);
};

for (const lang of ['en', 'hi']) {
  await row('vaccination, same beneficiary', lang, () =>
    renderCertificatePdf({ template: vaccinationTemplate, view, qr: dose2Qr.matrix, lang }),
  );
  let index = 0;
  await row('vaccination, every render a new beneficiary', lang, () => {
    const variant = variants[index++ % variants.length] as (typeof variants)[number];
    return renderCertificatePdf({ template: vaccinationTemplate, view: variant.view, qr: variant.qr, lang });
  });
  await row('test result', lang, () =>
    renderCertificatePdf({ template: testTemplate, view: testViewModel, qr: testQr, lang }),
  );
}
await row(
  'vaccination, uncompressed streams',
  'hi',
  () =>
    renderCertificatePdf({ template: vaccinationTemplate, view, qr: dose2Qr.matrix, lang: 'hi' }, { compress: false }),
  2,
);
let endToEnd = 0;
const e2e = await measure(
  async () => {
    const variant = variants[endToEnd++ % variants.length] as (typeof variants)[number];
    const { matrix } = await credentialQr(variant.credential);
    return renderCertificatePdf({
      template: vaccinationTemplate,
      view: vaccinationView(variant.credential, { icd }),
      qr: matrix,
      lang: 'hi',
    });
  },
  3,
  50,
);
rows.push(['end to end: view + QR zip/symbol + render', 'hi', fmt(e2e.perSecond), fmt(e2e.meanMs, 2), '']);
const rawVaccination = rawTemplate('vaccination');
const rawTest = rawTemplate('test');
const validate = await measure(() => VaccineCertificateTemplate.parse(rawVaccination), 1, 20);
const validateTest = await measure(() => TestCertificateTemplate.parse(rawTest), 1, 20);
console.log(table(rows));
console.log(
  `first render in a process (fonts read and parsed): ${fmt(firstMs)} ms; QR version ${dose2Qr.matrix.version} (${dose2Qr.matrix.size}×${dose2Qr.matrix.size} modules); template validation: ${fmt(validate.meanMs, 2)} ms (vaccination), ${fmt(validateTest.meanMs, 2)} ms (test)`,
);
