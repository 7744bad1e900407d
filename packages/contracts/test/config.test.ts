import { describe, expect, it } from 'vitest';
import { readJsonFixture } from '../../../test-fixtures/index.js';
import { checkVaccineCodesKnown, findVaccine, IcdConfig, normaliseName, VaccineIcdConfig } from '../src/index.js';

const icd = IcdConfig.parse(readJsonFixture('divoc', 'etcd', 'ICD.json'));

describe('etcd value schemas', () => {
  it("accept DIVOC's defaults", () => {
    expect(VaccineIcdConfig.safeParse(readJsonFixture('divoc', 'etcd', 'VACCINE_ICD.json')).success).toBe(true);
  });

  it('reject a name that maps to two codes', () => {
    const result = VaccineIcdConfig.safeParse([
      { vaccineName: 'Covishield', icd11Code: 'XM9QW8' },
      { vaccineName: 'covishield ', icd11Code: 'XM1NL1' },
    ]);
    expect(result.success).toBe(false);
  });

  it('reject a malformed code', () => {
    expect(VaccineIcdConfig.safeParse([{ vaccineName: 'x', icd11Code: 'not a code' }]).success).toBe(false);
    expect(IcdConfig.safeParse({ XM9QW8: { vaccineType: '' } }).success).toBe(false);
  });

  it('find codes VACCINE_ICD points at but ICD does not define', () => {
    expect(checkVaccineCodesKnown([{ vaccineName: 'x', icd11Code: 'XM0000' }], icd)).toHaveLength(1);
    expect(checkVaccineCodesKnown([{ vaccineName: 'x', icd11Code: 'XM9QW8' }], icd)).toEqual([]);
  });
});

describe('vaccine names', () => {
  const config = VaccineIcdConfig.parse([
    { vaccineName: 'sinopharm', icd11Code: 'XM1NL1', aliases: ['BBIBP-CorV'] },
    { vaccineName: 'sputnik v', icd11Code: 'XM9QW8' },
  ]);

  it('match exactly after normalisation (case, spaces, hyphen spacing, Unicode form)', () => {
    expect(normaliseName('  BBIBP- CorV ')).toBe('bbibp-corv');
    expect(findVaccine(config, 'bbibp - corv')?.vaccineName).toBe('sinopharm');
    expect(findVaccine(config, 'SPUTNIK  V')?.icd11Code).toBe('XM9QW8');
    expect(findVaccine(config, 'Ｓｐｕｔｎｉｋ V')?.icd11Code).toBe('XM9QW8');
  });

  it('never guess by substring', () => {
    expect(findVaccine(config, 'sputnik')).toBeUndefined();
    expect(findVaccine(config, 'sputnik v light')).toBeUndefined();
  });
});
