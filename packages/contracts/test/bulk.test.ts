import { describe, expect, it } from 'vitest';
import { readFixture } from '../../../test-fixtures/index.js';
import {
  bulkRequestId,
  CertificationRequest,
  checkCsvHeader,
  csvDate,
  csvRowToRequest,
  parseBulkRequestId,
  TEST_CSV_COLUMNS,
  TestCertificationRequest,
  VACCINATION_CSV_COLUMNS,
} from '../src/index.js';

const vaccinationCells = (): Record<string, string> => ({
  preEnrollmentCode: '1112',
  recipientName: 'Bhaya Mitra',
  recipientMobileNumber: '98804 14889',
  recipientDOB: '30-Nov-1994',
  recipientAge: '',
  recipientGender: 'Male',
  recipientNationality: 'Indian',
  recipientIdentity: 'did:in.gov.uidai.aadhaar:2342343334',
  recipientAddressLine1: '444, 2nd Street',
  recipientAddressLine2: '',
  recipientDistrict: 'Bengaluru',
  recipientState: 'Karnataka',
  recipientPincode: '560034',
  vaccinationBatch: 'MB3428BX',
  vaccinationDate: '2020-12-02T19:21:18.646Z',
  vaccinationDose: '1',
  vaccinationTotalDoses: '2',
  vaccinationEffectiveStart: '2020-12-02',
  vaccinationEffectiveEnd: '2025-12-02',
  vaccinationManufacturer: 'COVPharma',
  vaccinationName: 'CoVax',
  vaccinatorName: 'Sooraj Singh',
  facilityName: 'ABC Medical Center',
  facilityAddressLine1: '123, Koramangala',
  facilityAddressLine2: '',
  facilityDistrict: 'Bengaluru South',
  facilityState: 'Karnataka',
  facilityPincode: '560034',
});

describe('CSV templates', () => {
  it('are the columns of DIVOC\u2019s sample files', () => {
    const header = (name: string) => readFixture('divoc', name).trim().split(',');
    expect(header('certificates.csv')).toEqual([...VACCINATION_CSV_COLUMNS]);
    expect(header('testCertificates.csv')).toEqual([...TEST_CSV_COLUMNS]);
  });

  it('accept the columns in any order, trimmed', () => {
    const shuffled = [...VACCINATION_CSV_COLUMNS].reverse().map((column) => ` ${column} `);
    expect(checkCsvHeader('vaccination', shuffled)).toMatchObject({ ok: true });
  });

  it('accept a vaccination file with recipientAge or recipientDOB left out, as DIVOC did, but not both', () => {
    const without = (...names: string[]) => VACCINATION_CSV_COLUMNS.filter((column) => !names.includes(column));
    expect(checkCsvHeader('vaccination', without('recipientAge'))).toMatchObject({ ok: true });
    expect(checkCsvHeader('vaccination', without('recipientDOB'))).toMatchObject({ ok: true });
    expect(checkCsvHeader('vaccination', without('recipientAge', 'recipientDOB'))).toMatchObject({
      ok: false,
      missing: ['recipientDOB', 'recipientAge'],
    });
  });

  it('name what is missing, unknown or repeated', () => {
    const header = [...TEST_CSV_COLUMNS.filter((column) => column !== 'result'), 'outcome', 'disease'];
    const check = checkCsvHeader('test', header);
    expect(check).toMatchObject({ ok: false, missing: ['result'], unknown: ['outcome'], duplicated: ['disease'] });
    expect(check.ok ? '' : check.message).toMatch(
      /^the CSV header does not match the test template: missing columns: result; unknown columns: outcome; repeated columns: disease\. Expected/,
    );
    expect(checkCsvHeader('test', ['preEnrollmentCode;recipientName'])).toMatchObject({
      message: expect.stringContaining('separated by commas'),
    });
  });
});

describe('csvDate', () => {
  it('reads DIVOC\u2019s two date forms', () => {
    expect(csvDate('2006-01-02')).toBe('2006-01-02');
    expect(csvDate('02-Jan-2006')).toBe('2006-01-02');
    expect(csvDate('2-jan-2006')).toBe('2006-01-02');
    expect(csvDate('02/01/2006')).toBeUndefined();
    expect(csvDate('02-Foo-2006')).toBeUndefined();
  });
});

describe('csvRowToRequest', () => {
  it('maps a vaccination row as DIVOC did: contact tel:, DOB forms, numbers', () => {
    const converted = csvRowToRequest('vaccination', vaccinationCells());
    expect(converted).toMatchObject({ ok: true, preEnrollmentCode: '1112', dose: 1 });
    if (!converted.ok) return;
    expect(converted.payload).toEqual(CertificationRequest.parse(converted.payload));
    expect(converted.payload).toMatchObject({
      recipient: {
        contact: ['tel:9880414889'],
        dob: '1994-11-30',
        address: { addressLine1: '444, 2nd Street', district: 'Bengaluru', pincode: '560034' },
      },
      vaccination: { dose: 1, totalDoses: 2, effectiveUntil: '2025-12-02', batch: 'MB3428BX' },
      vaccinator: { name: 'Sooraj Singh' },
      facility: { name: 'ABC Medical Center', address: { district: 'Bengaluru South' } },
    });
    expect('age' in (converted.payload as CertificationRequest).recipient).toBe(false);
  });

  it('names the CSV column of every problem, once, without repeating the value', () => {
    const cells = {
      ...vaccinationCells(),
      recipientMobileNumber: '',
      recipientDOB: '31/12/1994',
      vaccinationDose: 'one',
      vaccinationDate: 'yesterday',
      facilityPincode: '',
    };
    const converted = csvRowToRequest('vaccination', cells);
    expect(converted.ok).toBe(false);
    if (converted.ok) return;
    expect(converted.errors).toEqual([
      { field: 'recipientDOB', reason: 'must be a date in the form 2006-01-02 or 02-Jan-2006' },
      { field: 'vaccinationDose', reason: 'must be a number' },
      { field: 'recipientMobileNumber', reason: 'must contain at least one "tel:" or "mailto:" entry' },
      { field: 'vaccinationDate', reason: 'must be an RFC 3339 date-time such as 2021-05-10T09:30:00.000Z' },
      { field: 'facilityPincode', reason: 'must not be empty' },
    ]);
    expect(JSON.stringify(converted.errors)).not.toMatch(/31\/12|yesterday/);
  });

  it('uses age when there is no DOB, and wants one of the two', () => {
    const withAge = csvRowToRequest('vaccination', { ...vaccinationCells(), recipientDOB: '', recipientAge: '26' });
    expect(withAge).toMatchObject({ ok: true, payload: { recipient: { age: '26' } } });
    const neither = csvRowToRequest('vaccination', { ...vaccinationCells(), recipientDOB: '' });
    expect(neither).toMatchObject({
      ok: false,
      errors: [{ field: 'recipientDOB', reason: 'either dob or age is required' }],
    });
  });

  it('maps a test row onto TestCertificationRequest', () => {
    const cells: Record<string, string> = {
      preEnrollmentCode: 'TST-1',
      recipientName: 'Rahul Menon',
      recipientMobileNumber: '9000067890',
      recipientDOB: '1979-11-02',
      recipientGender: 'Male',
      recipientNationality: '',
      recipientIdentity: 'did:in.gov.uidai.aadhaar:000033334444',
      recipientAddressLine1: '',
      recipientAddressLine2: '',
      recipientDistrict: '',
      recipientState: '',
      recipientPincode: '',
      testBatch: '',
      disease: 'COVID-19',
      testName: 'SARS-CoV-2 RT-PCR',
      testType: 'RT-PCR',
      result: 'Negative',
      resultTimestamp: '2021-06-02T14:20:00.000Z',
      manufacturer: '',
      sampleCollectionTimestamp: '2021-06-01T08:45:00.000Z',
      sampleOrigin: '',
      verifier: '',
      facilityName: 'District Hospital',
      facilityAddressLine1: 'Hospital Road',
      facilityAddressLine2: '',
      facilityDistrict: 'Ernakulam',
      facilityState: 'Kerala',
      facilityPincode: '682011',
    };
    const converted = csvRowToRequest('test', cells);
    expect(converted.ok).toBe(true);
    if (!converted.ok) return;
    expect(converted.payload).toEqual(TestCertificationRequest.parse(converted.payload));
    expect(converted.payload).toEqual({
      preEnrollmentCode: 'TST-1',
      recipient: {
        name: 'Rahul Menon',
        dob: '1979-11-02',
        gender: 'Male',
        identity: 'did:in.gov.uidai.aadhaar:000033334444',
        contact: ['tel:9000067890'],
      },
      testDetails: {
        testName: 'SARS-CoV-2 RT-PCR',
        testType: 'RT-PCR',
        disease: 'COVID-19',
        sampleCollectionTimestamp: '2021-06-01T08:45:00.000Z',
        resultTimestamp: '2021-06-02T14:20:00.000Z',
        result: 'Negative',
      },
      facility: {
        name: 'District Hospital',
        address: { addressLine1: 'Hospital Road', district: 'Ernakulam', state: 'Kerala', pincode: '682011' },
      },
    });
    expect(csvRowToRequest('test', { ...cells, result: 'maybe' })).toMatchObject({
      ok: false,
      errors: [{ field: 'result' }],
    });
  });
});

describe('bulk request ids', () => {
  it('are deterministic per upload and row, and read back', () => {
    const uploadId = '0190f1e2-aaaa-7bbb-8ccc-123456789abc';
    expect(bulkRequestId(uploadId, 42)).toBe(bulkRequestId(uploadId, 42));
    expect(bulkRequestId(uploadId, 42).length).toBeLessThanOrEqual(64);
    expect(parseBulkRequestId(bulkRequestId(uploadId, 42))).toEqual({ uploadId, row: 42 });
    expect(parseBulkRequestId('0190f1e2-aaaa-7bbb-8ccc-123456789abc')).toBeUndefined();
  });
});
