import type { CertificationRequestV2 } from '@divoc/contracts';
import { buildVaccinationCredential, type VaccinationCredential } from '@divoc/credentials';
import { describe, expect, it } from 'vitest';
import { bundledFonts, scriptRuns } from '../src/fonts.js';
import {
  doseType,
  formatDate,
  formatDateTime,
  formatIdentity,
  NOT_AVAILABLE,
  testView,
  vaccinationView,
} from '../src/index.js';
import { config, ddccRequests, icd, signedDoses, signedTest } from './support.js';

const build = (request: CertificationRequestV2, certificateId: string, issued: string, api: 'v1' | 'v3' = 'v3') =>
  buildVaccinationCredential(request, api, { certificateId, issuanceDate: new Date(issued) }, config);

const dose = (n: number, overrides: Partial<CertificationRequestV2['vaccination']> = {}): CertificationRequestV2 => {
  const base = ddccRequests[1] as CertificationRequestV2;
  return { ...base, vaccination: { ...base.vaccination, dose: n, ...overrides } };
};

describe('vaccination view', () => {
  it("offers DIVOC's fields, formatted, for the v3 DDCC fixture", async () => {
    const [dose1, dose2] = await signedDoses();
    const view = vaccinationView(dose2 as VaccinationCredential, { history: [dose1 as VaccinationCredential], icd });
    expect(view.fields).toEqual({
      name: 'Ananya Raghavan',
      age: '33',
      dob: '14-Mar-1988',
      gender: 'Female',
      identity: 'Aadhaar XXXXXXXX2222',
      nationality: 'Indian',
      beneficiaryId: 'DDCC-2021-000731',
      recipientAddress: '12, 4th Cross, Indiranagar, Bengaluru Urban',
      vaccine: 'Covishield',
      icd11Code: 'XM9QW8',
      prophylaxis: 'COVID-19 vaccine, non-replicating viral vector',
      vaccineType: 'XM9QW8, Viral vector (Non-replicating)',
      manufacturer: 'Serum Institute of India',
      batch: '4121Z098',
      vaccinationDate: '09-Aug-2021',
      dose: '2 of 2',
      doseNumber: '2',
      totalDoses: '2',
      doseType: 'Primary Dose 2',
      vaccinatedBy: 'Dr. Priya Nair',
      vaccinatedAt: 'Primary Health Centre Indiranagar, Bengaluru Urban',
      country: 'IN',
      certificateId: '06FSSQK3XWZ7KMHB33BR2',
      issuanceDate: '09-Aug-2021',
      validFrom: '09-Aug-2021',
      validity: '09-Aug-2022',
    });
    expect(view.vaxEvents).toEqual([
      {
        dose: '1',
        type: 'Primary Dose 1',
        name: 'Covishield',
        batch: '4121Z025',
        manufacturer: 'Serum Institute of India',
        date: '10-May-2021',
        country: 'IN',
      },
      {
        dose: '2',
        type: 'Primary Dose 2',
        name: 'Covishield',
        batch: '4121Z098',
        manufacturer: 'Serum Institute of India',
        date: '09-Aug-2021',
        country: 'IN',
      },
    ]);
    expect(view.issuedAt.toISOString()).toBe('2021-08-09T10:15:00.000Z');
  });

  it('lists each dose once, up to this one: the newest revision of earlier doses, this certificate for its own', () => {
    const first = build(dose(1, { batch: 'OLD' }), 'A1', '2021-05-10T00:00:00Z');
    const firstUpdated = build(dose(1, { batch: 'NEW' }), 'A2', '2021-06-01T00:00:00Z');
    const second = build(dose(2), 'B1', '2021-08-09T00:00:00Z');
    const booster = build(dose(3, { batch: 'BOOST' }), 'C1', '2022-01-10T00:00:00Z');
    const otherPerson = build({ ...dose(1), preEnrollmentCode: 'SOMEONE-ELSE' }, 'Z1', '2021-05-10T00:00:00Z');

    const view = vaccinationView(second, { history: [firstUpdated, booster, second, first, otherPerson], icd });
    expect(view.vaxEvents.map((event) => [event.dose, event.batch])).toEqual([
      ['1', 'NEW'],
      ['2', '4121Z098'],
    ]);
    const boosterView = vaccinationView(booster, { history: [first, second], icd });
    expect(boosterView.vaxEvents.map((event) => event.type)).toEqual([
      'Primary Dose 1',
      'Primary Dose 2',
      'Booster Dose 1',
    ]);
    expect(boosterView.fields.doseType).toBe('Booster Dose 1');
    expect(boosterView.fields.dose).toBe('3 of 2');
  });

  it('shows NA for what the credential does not say, and "Not Available" for an unknown vaccine type', () => {
    const base = ddccRequests[0] as CertificationRequestV2;
    const bare: CertificationRequestV2 = {
      ...base,
      recipient: {
        name: 'Asha',
        gender: 'Female',
        identity: 'NA',
        contact: ['tel:9000000000'],
        nationality: 'Indian',
      } as any,
      vaccination: { ...base.vaccination, manufacturer: '', batch: '' },
      vaccinator: undefined,
    } as any;
    const credential = build(bare, 'X1', '2021-05-10T00:00:00Z', 'v1');
    const view = vaccinationView(credential, { icd: {} });
    expect(view.fields.identity).toBe(NOT_AVAILABLE);
    expect(view.fields.recipientAddress).toBe(NOT_AVAILABLE);
    expect(view.fields.age).toBe(NOT_AVAILABLE);
    expect(view.fields.batch).toBe(NOT_AVAILABLE);
    expect(view.fields.vaccinatedBy).toBe(NOT_AVAILABLE);
    expect(view.fields.icd11Code).toBe(NOT_AVAILABLE);
    expect(view.fields.vaccineType).toBe('Not Available');
    for (const value of Object.values(view.fields)) expect(value).not.toBe('');
  });
});

describe('test view', () => {
  it('formats the sample and result times in UTC', async () => {
    const view = testView(await signedTest());
    expect(view.fields).toMatchObject({
      name: 'Rahul Menon',
      dob: '02-Nov-1979',
      gender: 'Male',
      identity: 'Aadhaar XXXXXXXX4444',
      recipientAddress: '7B, Marine Drive, Ernakulam',
      disease: 'COVID-19',
      testType: 'RT-PCR',
      testName: 'SARS-CoV-2 RT-PCR',
      sampleDate: '01-Jun-2021 08:45 UTC',
      resultDate: '02-Jun-2021 14:20 UTC',
      result: 'Negative',
      sampleOrigin: 'Nasopharyngeal swab',
      country: 'IN',
      certificateId: '07TSTQK3XWZ7KMHB33BR9',
      testedAt: 'District Hospital Ernakulam Testing Lab, Ernakulam',
      verifiedBy: 'Dr. Suresh Kumar',
    });
  });
});

describe('formatting', () => {
  it('masks identities to their last four characters and names known schemes', () => {
    expect(formatIdentity('did:in.gov.uidai.aadhaar:000011112222', 'R1')).toBe('Aadhaar XXXXXXXX2222');
    expect(formatIdentity('did:Passport:K1234567', 'R1')).toBe('Passport XXXX4567');
    expect(formatIdentity('did:india:ABCDEF123', 'R1')).toBe('XXXXXF123');
    expect(formatIdentity('did:india:123', 'R1')).toBe('XXX');
    expect(formatIdentity('did:india:R1', 'R1')).toBe(NOT_AVAILABLE);
  });

  it('writes dates as DD-Mon-YYYY and times as DD-Mon-YYYY HH:mm UTC', () => {
    expect(formatDate('2021-05-10T23:30:00.000Z')).toBe('10-May-2021');
    expect(formatDate('2022-12-01')).toBe('01-Dec-2022');
    expect(formatDate(undefined)).toBe(NOT_AVAILABLE);
    expect(formatDate('sometime')).toBe('sometime');
    expect(formatDateTime('2021-06-01T08:45:00.000+05:30')).toBe('01-Jun-2021 03:15 UTC');
    expect(doseType(1, 2)).toBe('Primary Dose 1');
    expect(doseType(4, 2)).toBe('Booster Dose 2');
  });
});

describe('script runs', () => {
  it('are shaped by fontkit with the bundled font: conjuncts fuse, the i-matra moves before its consonant', () => {
    const font = bundledFonts()['devanagari-regular'].pdfFont;
    expect(font.layout('क्ष').glyphs).toHaveLength(1);
    expect(font.layout('कि').glyphs.map((glyph) => glyph.codePoints)).toEqual([[0x93f], [0x915]]);
    const reph = font.layout('र्थ').glyphs;
    expect(reph.length).toBe(2);
    expect(reph[0]?.codePoints).toEqual([0x925]);
  });

  it('give Devanagari to the Devanagari font, with the digits and punctuation inside it', () => {
    const fonts = bundledFonts();
    const faces = { latin: fonts['latin-regular'], devanagari: fonts['devanagari-regular'] };
    expect(scriptRuns('आईसीडी-11 कोड / ICD-11 Code', faces)).toEqual([
      { script: 'devanagari', text: 'आईसीडी-11 कोड / ' },
      { script: 'latin', text: 'ICD-11 Code' },
    ]);
    expect(scriptRuns('(लाभार्थी) Name', faces)).toEqual([
      { script: 'latin', text: '(' },
      { script: 'devanagari', text: 'लाभार्थी) ' },
      { script: 'latin', text: 'Name' },
    ]);
  });
});
