import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Public test data copied from `../shared/fixtures` (sources and licences in `public/README.md`),
 * kept in the repository so a clean checkout tests the same data.
 */
export const fixturePath = (...segments: string[]): string => join(import.meta.dirname, 'public', ...segments);

export const readFixture = (...segments: string[]): string => readFileSync(fixturePath(...segments), 'utf8');

export const readJsonFixture = <T = any>(...segments: string[]): T => JSON.parse(readFixture(...segments)) as T;

/** One CSV cell, quoted when it holds a quote, a comma or a line break (RFC 4180). */
export const csvCell = (value: string): string => (/[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);

/** One CSV line (without its line break). */
export const csvLine = (cells: readonly string[]): string => cells.map(csvCell).join(',');

/** A valid row of DIVOC's bulk vaccination CSV (`certificates.csv` columns), distinct per `index`. */
export const sampleVaccinationCsvRow = (preEnrollmentCode: string, index: number): Record<string, string> => ({
  preEnrollmentCode,
  recipientName: `Ananya Raghavan ${index}`,
  recipientMobileNumber: `9${String(index).padStart(9, '0')}`,
  recipientDOB: '1990-05-17',
  recipientAge: '',
  recipientGender: 'Female',
  recipientNationality: 'Indian',
  recipientIdentity: `did:in.gov.uidai.aadhaar:${String(index).padStart(12, '0')}`,
  recipientAddressLine1: '12, Temple Street',
  recipientAddressLine2: '',
  recipientDistrict: 'Bengaluru Urban',
  recipientState: 'Karnataka',
  recipientPincode: '560034',
  vaccinationBatch: 'MB3428BX',
  vaccinationDate: '2021-05-10T09:30:00.000Z',
  vaccinationDose: '1',
  vaccinationTotalDoses: '2',
  vaccinationEffectiveStart: '2021-05-10',
  vaccinationEffectiveEnd: '2022-05-10',
  vaccinationManufacturer: 'Serum Institute of India',
  vaccinationName: 'Covishield',
  vaccinatorName: 'Dr. Sooraj Singh',
  facilityName: 'PHC Koramangala, Bengaluru',
  facilityAddressLine1: '80 Feet Road',
  facilityAddressLine2: 'Koramangala',
  facilityDistrict: 'Bengaluru Urban',
  facilityState: 'Karnataka',
  facilityPincode: '560034',
});
