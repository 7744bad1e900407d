import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { readJsonFixture } from '../../../../test-fixtures/index.js';
import {
  buildDccPayload,
  countryAlpha2,
  countryAlpha3,
  EuDccInputError,
  EuDccMappingError,
  isValidUvci,
} from '../src/index.js';
import { credentialFor, exportConfig, maps, names } from './support.js';

// An independent validator: the schema and value sets as published in test-fixtures, not the package's copies.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv2020,
) => void;
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
const validateSchema = ajv.compile(readJsonFixture('eu-dcc', 'schema', 'DCC.combined-schema.json'));
const valueSet = (name: string): Record<string, { active: boolean }> =>
  readJsonFixture<{ valueSetValues: Record<string, { active: boolean }> }>('eu-dcc', 'valuesets', `${name}.json`)
    .valueSetValues;

describe('credential → DCC payload (schema 1.3.x)', () => {
  it('maps the DDCC fixture (dose 2 of 2, Covishield) field by field', () => {
    const payload = buildDccPayload(credentialFor(1), names, exportConfig);
    expect(payload).toEqual({
      ver: '1.3.0',
      nam: { fn: 'Raghavan', fnt: 'RAGHAVAN', gn: 'Ananya', gnt: 'ANANYA' },
      dob: '1988-03-14',
      v: [
        {
          tg: '840539006',
          vp: '29061000087103',
          mp: 'Covishield',
          ma: 'ORG-100001981',
          dn: 2,
          sd: 2,
          dt: '2021-08-09',
          co: 'IN',
          is: 'Ministry of Health and Family Welfare, India',
          ci: expect.stringMatching(/^URN:UVCI:01:IN:06FSSQK3XWZ7KMHB33BR7#[A-Z0-9/:]$/),
        },
      ],
    });
    expect(isValidUvci(payload.v?.[0]?.ci as string)).toBe(true);
  });

  it.each([0, 1])(
    'validates dose %i against the official JSON schema and the value sets (independent Ajv)',
    (index) => {
      const payload = buildDccPayload(credentialFor(index), names, exportConfig);
      expect(validateSchema(payload), JSON.stringify(validateSchema.errors)).toBe(true);
      const entry = payload.v?.[0] as NonNullable<typeof payload.v>[number];
      expect(valueSet('disease-agent-targeted')[entry.tg]?.active).toBe(true);
      expect(valueSet('vaccine-prophylaxis')[entry.vp]?.active).toBe(true);
      expect(valueSet('vaccine-medicinal-product')[entry.mp]?.active).toBe(true);
      expect(valueSet('vaccine-mah-manf')[entry.ma]?.active).toBe(true);
      expect(valueSet('country-2-codes')[entry.co]?.active).toBe(true);
    },
  );

  it('throws a typed error naming euVaccineCode for a vaccine missing from the map — never an empty code', () => {
    const credential = credentialFor(0, (request) => ({
      ...request,
      vaccination: { ...request.vaccination, name: 'ZyCoV-D' },
    }));
    const run = () => buildDccPayload(credential, names, exportConfig);
    expect(run).toThrow(EuDccMappingError);
    expect(run).toThrow(
      expect.objectContaining({
        code: 'EU_DCC_UNMAPPED',
        etcdKey: 'euVaccineCode',
        field: 'v[0].mp',
        value: 'ZyCoV-D',
      }),
    );
    expect(run).toThrow(/etcd key euVaccineCode/);
  });

  it('names euVaccineProph when only the prophylaxis is missing, and euVaccineManuf for an unknown manufacturer', () => {
    const withoutProph = { ...maps, euVaccineProph: {} };
    expect(() => buildDccPayload(credentialFor(0), names, { ...exportConfig, maps: withoutProph })).toThrow(
      expect.objectContaining({ etcdKey: 'euVaccineProph', field: 'v[0].vp' }),
    );
    const credential = credentialFor(0, (request) => ({
      ...request,
      vaccination: { ...request.vaccination, manufacturer: 'Acme Vaccines' },
    }));
    expect(() => buildDccPayload(credential, names, exportConfig)).toThrow(
      expect.objectContaining({ etcdKey: 'euVaccineManuf', field: 'v[0].ma', value: 'Acme Vaccines' }),
    );
  });

  it('looks names up exactly after normalisation: case and spacing do not matter, substrings do not match', () => {
    const upper = credentialFor(0, (request) => ({
      ...request,
      vaccination: { ...request.vaccination, name: '  COVISHIELD ', manufacturer: 'SERUM  Institute of India' },
    }));
    expect(buildDccPayload(upper, names, exportConfig).v?.[0]?.mp).toBe('Covishield');
    const base = credentialFor(0);
    const longer = { ...base, evidence: [{ ...base.evidence[0], vaccine: 'Covishield 2' }] as typeof base.evidence };
    expect(() => buildDccPayload(longer, names, exportConfig)).toThrow(EuDccMappingError);
  });

  it.each(['IN', 'IND', 'India', 'in'])('maps the facility country "%s" to IN', (country) => {
    const credential = credentialFor(0, (request) => ({
      ...request,
      facility: {
        ...request.facility,
        address: { ...(request.facility.address as NonNullable<typeof request.facility.address>), country },
      },
    }));
    expect(buildDccPayload(credential, names, exportConfig).v?.[0]?.co).toBe('IN');
  });

  it('refuses an unknown country instead of guessing one', () => {
    const credential = credentialFor(0, (request) => ({
      ...request,
      facility: {
        ...request.facility,
        address: { ...(request.facility.address as NonNullable<typeof request.facility.address>), country: 'Atlantis' },
      },
    }));
    expect(() => buildDccPayload(credential, names, exportConfig)).toThrow(
      expect.objectContaining({ field: 'v[0].co' }),
    );
  });

  it('uses the issuing country for the UVCI when configured', () => {
    const payload = buildDccPayload(credentialFor(0), names, { ...exportConfig, issuerCountry: 'LK' });
    expect(payload.v?.[0]?.ci).toMatch(/^URN:UVCI:01:LK:/);
    expect(payload.v?.[0]?.co).toBe('IN');
  });

  it('writes the birth year when only the age is known, and "" when neither is', () => {
    const credential = credentialFor(0);
    const { dob: _dob, ...rest } = credential.credentialSubject;
    const aged = { ...credential, credentialSubject: { ...rest, age: '33' } };
    expect(buildDccPayload(aged, names, exportConfig).dob).toBe('1988');
    expect(buildDccPayload({ ...credential, credentialSubject: rest }, names, exportConfig).dob).toBe('');
  });

  it('checks the holder names: fn+fnt required, gn needs gnt, ICAO pattern, 80 characters', () => {
    const credential = credentialFor(0);
    const bad = (input: object) => () => buildDccPayload(credential, input as typeof names, exportConfig);
    expect(bad({ fn: 'Raghavan' })).toThrow(EuDccInputError);
    expect(bad({ fn: 'Raghavan', fnt: 'raghavan' })).toThrow(/fnt must match/);
    expect(bad({ fn: 'Raghavan', fnt: 'RAGHAVAN', gn: 'Ananya' })).toThrow(/gnt is required/);
    expect(bad({ fn: 'Raghavan', fnt: 'R'.repeat(81) })).toThrow(/80/);
    expect(bad({ fnt: 'RAGHAVAN' })).toThrow(/fn is required/);
    expect(buildDccPayload(credential, { fn: 'Raghavan', fnt: 'RAGHAVAN' }, exportConfig).nam).toEqual({
      fn: 'Raghavan',
      fnt: 'RAGHAVAN',
    });
  });
});

describe('country codes', () => {
  it('converts between alpha-2, alpha-3 and English names', () => {
    expect(countryAlpha2('IND')).toBe('IN');
    expect(countryAlpha3('IN')).toBe('IND');
    expect(countryAlpha3('Sri Lanka')).toBe('LKA');
    expect(countryAlpha2('Türkiye')).toBe('TR');
    expect(countryAlpha2('XK')).toBe('XK');
    expect(countryAlpha2('ZZ')).toBeUndefined();
  });

  it('knows every code of the EU country-2-codes value set', () => {
    for (const code of Object.keys(valueSet('country-2-codes'))) expect(countryAlpha2(code), code).toBe(code);
  });
});
