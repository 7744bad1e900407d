import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EuDccInputError, ICAO_NAME, icaoTransliterate, withTransliteration } from '../src/index.js';

describe('ICAO 9303 transliteration of Latin names', () => {
  it.each([
    // The DCC schema's own examples and the dgc-testdata vectors.
    ["d'Červenková Panklová", 'DCERVENKOVA<PANKLOVA'],
    ['Jiřina-Maria Alena', 'JIRINA<MARIA<ALENA'],
    ['Musterfrau-Gößinger', 'MUSTERFRAU<GOESSINGER'],
    ['Gabriele', 'GABRIELE'],
    // ICAO Doc 9303 Part 3 table A.
    ['Åsa Ærø', 'AASA<AEROE'],
    ['Müller', 'MUELLER'],
    ['Þórður', 'THORDUR'],
    ['Łukasz Øster', 'LUKASZ<OESTER'],
    ['José  María', 'JOSE<MARIA'],
    ['  Ananya   Raghavan  ', 'ANANYA<RAGHAVAN'],
    ["O'Neill", 'ONEILL'],
    ['Nguyễn Văn', 'NGUYEN<VAN'],
  ])('%s → %s', (name, expected) => {
    expect(icaoTransliterate(name)).toBe(expected);
  });

  it('refuses non-Latin scripts: the holder must send fnt/gnt', () => {
    expect(() => icaoTransliterate('अनन्या')).toThrow(EuDccInputError);
    expect(() => icaoTransliterate('Иван')).toThrow(/fnt\/gnt/);
  });

  it('always yields ^[A-Z<]*$ within 80 characters for Latin letters, spaces and hyphens', () => {
    const latin = fc.stringMatching(/^[A-Za-zÀ-ÖØ-öø-ÿ' -]{0,120}$/);
    fc.assert(
      fc.property(latin, (name) => {
        const result = icaoTransliterate(name);
        expect(result).toMatch(ICAO_NAME);
        expect(result.length).toBeLessThanOrEqual(80);
      }),
    );
  });

  it('fills fnt/gnt for callers that send only fn/gn, and keeps explicit ones', () => {
    expect(withTransliteration({ fn: 'Gößinger', gn: 'Gabriele' })).toEqual({
      fn: 'Gößinger',
      fnt: 'GOESSINGER',
      gn: 'Gabriele',
      gnt: 'GABRIELE',
    });
    expect(withTransliteration({ fn: 'Gößinger', fnt: 'GOSSINGER' })).toEqual({ fn: 'Gößinger', fnt: 'GOSSINGER' });
  });
});
