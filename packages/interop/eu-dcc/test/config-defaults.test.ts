import { readFileSync } from 'node:fs';
import { EuVaccineCodeConfig, EuVaccineManufConfig, EuVaccineProphConfig, normaliseName } from '@divoc/contracts';
import { describe, expect, it } from 'vitest';
import { readJsonFixture } from '../../../../test-fixtures/index.js';
import { euMapIssues } from '../src/index.js';
import { maps, readEtcdDefault, vaccineIcd } from './support.js';

const divoc = {
  euVaccineCode: readJsonFixture<Record<string, string>>('divoc', 'etcd', 'euVaccineCode.json'),
  euVaccineProph: readJsonFixture<Record<string, string>>('divoc', 'etcd', 'euVaccineProph.json'),
  euVaccineManuf: readJsonFixture<Record<string, string>>('divoc', 'etcd', 'euVaccineManuf.json'),
};

/** VACCINE_ICD products the EU value sets have no medicinal product for: an EU export of them is a 422. */
const NOT_IN_EU_VALUE_SETS = ['zycov-d', 'corbevax'];

describe('EU etcd maps: the bundled defaults', () => {
  it('pass the contracts schemas and name only active value-set codes', () => {
    expect(EuVaccineCodeConfig.safeParse(readEtcdDefault('euVaccineCode')).success).toBe(true);
    expect(EuVaccineProphConfig.safeParse(readEtcdDefault('euVaccineProph')).success).toBe(true);
    expect(EuVaccineManufConfig.safeParse(readEtcdDefault('euVaccineManuf')).success).toBe(true);
    expect(euMapIssues(maps)).toEqual([]);
  });

  it('cover every VACCINE_ICD name and alias (except products without an EU code), with vp and mp for the same names', () => {
    const names = vaccineIcd.flatMap((entry) => [entry.vaccineName, ...(entry.aliases ?? [])]).map(normaliseName);
    const expected = names.filter((name) => !NOT_IN_EU_VALUE_SETS.includes(name)).sort();
    expect(Object.keys(maps.euVaccineCode).map(normaliseName).sort()).toEqual(expected);
    expect(Object.keys(maps.euVaccineProph).map(normaliseName).sort()).toEqual(expected);
  });

  it('are keyed by already-normalised names', () => {
    for (const map of Object.values(maps)) {
      for (const key of Object.keys(map)) expect(normaliseName(key)).toBe(key);
    }
  });

  it('use the current SNOMED codes (mRNA 1119349007, …) and never the deprecated J07BX03', () => {
    expect(maps.euVaccineProph.pfizer).toBe('1119349007');
    expect(maps.euVaccineProph.moderna).toBe('1119349007');
    expect(Object.values(maps.euVaccineProph)).not.toContain('J07BX03');
  });
});

describe("EU etcd maps: DIVOC's defaults and their known defects", () => {
  it('are rejected by the contracts schemas (spaces in codes, the deprecated J07BX03)', () => {
    const code = EuVaccineCodeConfig.safeParse(divoc.euVaccineCode);
    expect(code.success).toBe(false);
    expect(code.error?.issues.map((issue) => issue.path.join('.')).sort()).toEqual([
      'bbibp-corv',
      'covovax',
      'novavax',
      'sinopharm',
    ]);
    expect(EuVaccineProphConfig.safeParse(divoc.euVaccineProph).success).toBe(false);
    const manuf = EuVaccineManufConfig.safeParse(divoc.euVaccineManuf);
    expect(manuf.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['sinovac']);
  });

  it('fail the value-set check for every defect the fixtures README lists', () => {
    const issues = euMapIssues(divoc).join('\n');
    expect(issues).toContain('"BBIBP- CorV"');
    expect(issues).toContain('"NVX - CoV2373"');
    expect(issues).toContain('"Sinovac- Biontech"');
    expect(issues).toContain('"J07BX03"');
  });

  it('are fixed in ours: BBIBP-CorV, Nuvaxovid/Covovax, Sinovac-Biotech, cansino in lower case, pfizer as in VACCINE_ICD', () => {
    expect(maps.euVaccineCode.sinopharm).toBe('BBIBP-CorV');
    expect(maps.euVaccineCode.novavax).toBe('EU/1/21/1618');
    expect(maps.euVaccineCode.covovax).toBe('Covovax');
    expect(maps.euVaccineManuf.sinovac).toBe('Sinovac-Biotech');
    expect(Object.keys(maps.euVaccineManuf)).toContain('cansino');
    expect(Object.keys(maps.euVaccineManuf)).not.toContain('canSino');
    expect(maps.euVaccineCode.pfizer).toBe('EU/1/20/1528');
  });

  it('rejects two keys that are the same name after normalisation', () => {
    const result = EuVaccineCodeConfig.safeParse({ 'Sputnik V': 'Sputnik-V', 'sputnik  v': 'Sputnik-V' });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/same name after normalisation/);
  });
});

describe('bundled schema and value sets', () => {
  it('hold the same JSON as the published copies in test-fixtures', () => {
    const bundled = (path: string) => JSON.parse(readFileSync(new URL(`../${path}`, import.meta.url), 'utf8'));
    expect(bundled('schema/DCC.combined-schema.json')).toEqual(
      readJsonFixture('eu-dcc', 'schema', 'DCC.combined-schema.json'),
    );
    for (const name of [
      'country-2-codes',
      'disease-agent-targeted',
      'vaccine-mah-manf',
      'vaccine-medicinal-product',
      'vaccine-prophylaxis',
    ]) {
      expect(bundled(`valuesets/${name}.json`), name).toEqual(readJsonFixture('eu-dcc', 'valuesets', `${name}.json`));
    }
  });
});
