import { execFileSync } from 'node:child_process';
import { type CertificateTemplate, templateTokens, validateTemplate } from '@divoc/contracts';
import { credentialQr, type VaccinationCredential, verifyCredential } from '@divoc/credentials';
import jsQRModule from 'jsqr';
import JSZip from 'jszip';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CertificateView, renderCertificatePdf, testView, vaccinationView } from '../src/index.js';
import {
  icd,
  pdfPng,
  pdfText,
  rawTemplate,
  signedDoses,
  signedTest,
  testTemplate,
  trustedKeys,
  vaccinationTemplate,
} from './support.js';

const jsQR = jsQRModule.default;

/** Every `{{field}}` and `{{label:key}}` the template's texts name, and the table's column headers. */
const referenced = (template: CertificateTemplate) => {
  const fields = new Set<string>();
  const labels = new Set<string>();
  for (const element of template.elements) {
    if (element.type === 'text') {
      for (const token of templateTokens(element.text)) {
        if (token.kind === 'field') fields.add(token.name);
        if (token.kind === 'label') labels.add(token.key);
      }
    }
    if (element.type === 'table') for (const column of element.columns) labels.add(column.header);
  }
  return { fields: [...fields], labels: [...labels] };
};

/** pdftotext -layout output with runs of whitespace collapsed (values wrapped over two lines stay findable). */
const flat = (text: string) => text.replace(/\s+/g, ' ');

/**
 * Reads the QR code from the page rasterised at print resolution with an independent reader (pngjs + jsQR),
 * then unzips it. At 150 dpi a module is ~3.2 anti-aliased pixels and jsQR misses about one symbol in ten,
 * depending on the signature bytes; 300 dpi is what a printer or a scanner sees.
 */
const readQrFromPage = async (pdf: Buffer): Promise<unknown> => {
  const image = PNG.sync.read(pdfPng(pdf, 300));
  const code = jsQR(new Uint8ClampedArray(image.data), image.width, image.height);
  expect(code, 'a QR code on the page').not.toBeNull();
  const zip = await JSZip.loadAsync(Uint8Array.from(code?.binaryData ?? []));
  const json = await zip.file('certificate.json')?.async('string');
  return JSON.parse(json ?? 'null');
};

describe('vaccination certificate PDF (v3 DDCC fixture, dose 2 of 2 with dose 1 in the history)', () => {
  let credential: VaccinationCredential;
  let view: CertificateView;
  const pdfs: Record<string, Buffer> = {};
  const texts: Record<string, string> = {};

  beforeAll(async () => {
    const [dose1, dose2] = await signedDoses();
    credential = dose2 as VaccinationCredential;
    view = vaccinationView(credential, { history: [dose1 as VaccinationCredential], icd });
    const { matrix } = await credentialQr(credential);
    for (const lang of ['en', 'hi']) {
      pdfs[lang] = renderCertificatePdf({ template: vaccinationTemplate, view, qr: matrix, lang });
      texts[lang] = pdfText(pdfs[lang] as Buffer);
    }
  });

  it.each(['en', 'hi'])('%s: shows every field value the template names', (lang) => {
    const text = flat(texts[lang] as string);
    const { fields } = referenced(vaccinationTemplate);
    expect(fields.length).toBeGreaterThan(15);
    for (const field of fields) {
      const value = (view.fields as Record<string, string>)[field] as string;
      expect(text, `${field} = "${value}"`).toContain(value);
    }
  });

  it.each(['en', 'hi'])('%s: shows the dose history, one row per dose', (lang) => {
    const lines = (texts[lang] as string).split('\n');
    const rows = [
      ['1', 'Primary Dose 1', 'Covishield', '4121Z025', '10-May-2021', 'IN'],
      ['2', 'Primary Dose 2', 'Covishield', '4121Z098', '09-Aug-2021', 'IN'],
    ];
    for (const row of rows) {
      const pattern = new RegExp(
        `^\\s*${row.map((cell) => cell.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('\\s+')}\\s*$`,
      );
      expect(
        lines.some((line) => pattern.test(line)),
        row.join(' | '),
      ).toBe(true);
    }
  });

  it('hi: every Hindi label is extracted as written (conjuncts and vowel signs in logical order)', () => {
    const text = flat(texts.hi as string);
    const hindi = rawTemplate('vaccination').labels.hi as Record<string, string>;
    const { labels } = referenced(vaccinationTemplate);
    for (const key of labels) expect(text, key).toContain(flat((hindi[key] as string).normalize('NFC')));
    // Words whose glyphs are reordered or fused by shaping: reph (र्थ), pre-base i-matra (लि), conjuncts.
    for (const word of ['लाभार्थी', 'प्रमाणपत्र', 'राष्ट्रीय', 'कार्यक्रम', 'लिंग', 'हस्ताक्षरित', 'केंद्र']) {
      expect(text).toContain(word);
    }
    expect(text).not.toContain('Beneficiary Name');
  });

  it('en: English labels', () => {
    const english = rawTemplate('vaccination').labels.en as Record<string, string>;
    const text = flat(texts.en as string);
    for (const key of referenced(vaccinationTemplate).labels) expect(text, key).toContain(flat(english[key] as string));
  });

  it.each(['en', 'hi'])('%s: the QR code on the page is readable and verifies', async (lang) => {
    const decoded = await readQrFromPage(pdfs[lang] as Buffer);
    expect(decoded).toEqual(credential);
    await expect(verifyCredential(decoded, { trustedKeys })).resolves.toMatchObject({ valid: true });
  });

  it('draws the QR code as vector paths: the only image is the logo', () => {
    for (const pdf of Object.values(pdfs)) {
      expect(pdf.toString('latin1').match(/\/Subtype \/Image/g)).toHaveLength(1);
    }
  });

  it('embeds subsets of the bundled fonts, Noto Sans Devanagari only where Devanagari is drawn', () => {
    const fonts = (pdf: Buffer) => {
      const listing = execFileSync('pdffonts', ['-'], { input: pdf, encoding: 'utf8' });
      return listing
        .split('\n')
        .slice(2)
        .filter(Boolean)
        .map((line) => line.split(/\s+/));
    };
    const hindi = fonts(pdfs.hi as Buffer);
    expect(hindi.map(([name]) => name?.replace(/^[A-Z]{6}\+/, '')).sort()).toEqual([
      'NotoSans-Bold',
      'NotoSans-Regular',
      'NotoSansDevanagari-Bold',
      'NotoSansDevanagari-Regular',
    ]);
    // emb, sub, uni: embedded, subset, with a ToUnicode map
    for (const row of hindi) expect(row.slice(-5, -2)).toEqual(['yes', 'yes', 'yes']);
    expect(fonts(pdfs.en as Buffer).some(([name]) => name?.includes('Devanagari'))).toBe(false);
  });

  it('is A4, one page, deterministic, dated by the credential', async () => {
    const again = renderCertificatePdf({
      template: vaccinationTemplate,
      view,
      qr: (await credentialQr(credential)).matrix,
      lang: 'en',
    });
    expect(again.equals(pdfs.en as Buffer)).toBe(true);
    const info = execFileSync('pdfinfo', ['-isodates', '-'], { input: pdfs.en, encoding: 'utf8' });
    expect(info).toMatch(/Pages:\s+1\n/);
    expect(info).toMatch(/Page size:\s+595\.28 x 841\.89 pts \(A4\)/);
    expect(info).toMatch(/CreationDate:\s+2021-08-09T10:15:00Z/);
  });

  it('falls back to English labels for a language the template lacks', async () => {
    const pdf = renderCertificatePdf({
      template: vaccinationTemplate,
      view,
      qr: (await credentialQr(credential)).matrix,
      lang: 'ta',
    });
    expect(flat(pdfText(pdf))).toContain('Beneficiary Name Ananya Raghavan');
  });
});

describe('test-result certificate PDF', () => {
  it.each(['en', 'hi'])('%s: shows every field value, and its QR code verifies', async (lang) => {
    const credential = await signedTest();
    const view = testView(credential);
    const pdf = renderCertificatePdf({
      template: testTemplate,
      view,
      qr: (await credentialQr(credential)).matrix,
      lang,
    });
    const text = flat(pdfText(pdf));
    const { fields, labels } = referenced(testTemplate);
    for (const field of fields) {
      const value = (view.fields as Record<string, string>)[field] as string;
      expect(text, `${field} = "${value}"`).toContain(value);
    }
    const wording = rawTemplate('test').labels[lang] as Record<string, string>;
    for (const key of labels) expect(text, key).toContain(flat(wording[key] as string));
    const decoded = await readQrFromPage(pdf);
    await expect(verifyCredential(decoded, { trustedKeys })).resolves.toMatchObject({ valid: true });
  });
});

describe('values in Devanagari', () => {
  it('are drawn with the Devanagari font inside English text and extracted as written', async () => {
    const [, dose2] = await signedDoses();
    const credential = dose2 as VaccinationCredential;
    const base = vaccinationView(credential, { icd });
    const name = 'अनन्या राघवन (Ananya)';
    const pdf = renderCertificatePdf({
      template: vaccinationTemplate,
      view: { ...base, fields: { ...base.fields, name } },
      qr: (await credentialQr(credential)).matrix,
      lang: 'en',
    });
    expect(flat(pdfText(pdf))).toContain(`Beneficiary Name ${name}`);
    const listing = execFileSync('pdffonts', ['-'], { input: pdf, encoding: 'utf8' });
    expect(listing).toContain('NotoSansDevanagari-Regular');
  });
});

describe('text that does not fit its box', () => {
  const template = (text: string, maxLines = 1): CertificateTemplate => {
    const result = validateTemplate('vaccination', {
      version: 'fit',
      page: 'A4',
      labels: { en: { name: 'Name' } },
      elements: [{ type: 'text', x: 40, y: 40, width: 150, text, maxLines, size: 12 }],
    });
    if (!result.success) throw new Error(result.problems.join('\n'));
    return result.template;
  };

  it('shrinks, wraps, or is cut with an ellipsis, and never leaves its box', async () => {
    const [, dose2] = await signedDoses();
    const credential = dose2 as VaccinationCredential;
    const qr = (await credentialQr(credential)).matrix;
    const base = vaccinationView(credential, { icd });
    const render = (name: string, maxLines = 1) =>
      pdfText(
        renderCertificatePdf({
          template: template('{{name}}', maxLines),
          view: { ...base, fields: { ...base.fields, name } },
          qr,
          lang: 'en',
        }),
      );
    const longName = 'Venkata Lakshmi Narasimha Ananya Raghavan';
    expect(render('Venkata Lakshmi Narasimha Rao').trim()).toBe('Venkata Lakshmi Narasimha Rao'); // shrunk a little
    const wrapped = render(longName, 2).trim().split('\n');
    expect(wrapped).toHaveLength(2);
    expect(flat(wrapped.join(' '))).toBe(longName);
    const huge = `${longName} ${longName} ${longName}`;
    const cut = render(huge).trim();
    expect(cut.endsWith('…')).toBe(true);
    expect(huge.startsWith(cut.slice(0, -1).trimEnd())).toBe(true);
  });
});
