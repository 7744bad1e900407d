import { readFileSync } from 'node:fs';

/**
 * ISO 3166-1 countries (alpha-2, alpha-3, English names) from the bundled `data/countries.json`.
 * Credentials carry the facility country as the request gave it: "IN", "IND" or "India".
 */
interface Country {
  alpha2: string;
  alpha3: string;
}

const byKey = (() => {
  const file = JSON.parse(readFileSync(new URL('../data/countries.json', import.meta.url), 'utf8')) as {
    countries: string[][];
    added: string[][];
  };
  const index = new Map<string, Country>();
  for (const [alpha2, alpha3, ...names] of [...file.countries, ...file.added]) {
    const country = { alpha2: alpha2 as string, alpha3: alpha3 as string };
    index.set(country.alpha2, country);
    index.set(country.alpha3, country);
    for (const name of names) index.set(nameKey(name), country);
  }
  return index;
})();

function nameKey(name: string): string {
  return `name:${name.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(/\s+/g, ' ').trim()}`;
}

/** The country for an alpha-2 or alpha-3 code (any case) or an English name; undefined when unknown. */
export const findCountry = (value: string): Country | undefined => {
  const trimmed = value.trim();
  if (/^[A-Za-z]{2,3}$/.test(trimmed)) {
    const byCode = byKey.get(trimmed.toUpperCase());
    if (byCode !== undefined) return byCode;
  }
  return byKey.get(nameKey(trimmed));
};

/** ISO 3166-1 alpha-2 of a code or English name ("IND", "India", "in" → "IN"). */
export const countryAlpha2 = (value: string): string | undefined => findCountry(value)?.alpha2;

/** ISO 3166-1 alpha-3 of a code or English name ("IN", "India" → "IND"). */
export const countryAlpha3 = (value: string): string | undefined => findCountry(value)?.alpha3;
