/**
 * Writes the sample pages `docs/certificate-en.png` and `docs/certificate-hi.png` (the default vaccination
 * template, v3 DDCC fixture, dose 2 of 2, rasterised by pdftoppm at 100 dpi):
 * `node --import tsx packages/documents/test/render-samples.ts`
 */
import { writeFileSync } from 'node:fs';
import { credentialQr, type VaccinationCredential } from '@divoc/credentials';
import { renderCertificatePdf, vaccinationView } from '../src/index.js';
import { icd, pdfPng, signedDoses, vaccinationTemplate } from './support.js';

const [dose1, dose2] = await signedDoses();
const credential = dose2 as VaccinationCredential;
const view = vaccinationView(credential, { history: [dose1 as VaccinationCredential], icd });
const { matrix } = await credentialQr(credential);
for (const lang of ['en', 'hi']) {
  const pdf = renderCertificatePdf({ template: vaccinationTemplate, view, qr: matrix, lang });
  const file = new URL(`../../../docs/certificate-${lang}.png`, import.meta.url);
  writeFileSync(file, pdfPng(pdf, 100));
  console.log(`${file.pathname}: ${pdf.length} bytes of PDF`);
}
