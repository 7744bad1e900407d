import { readFileSync } from 'node:fs';

/** The EU DCC value sets this package checks codes against (bundled release vs-1.15, see `valuesets/README.md`). */
export type ValueSetName =
  | 'disease-agent-targeted'
  | 'vaccine-prophylaxis'
  | 'vaccine-medicinal-product'
  | 'vaccine-mah-manf'
  | 'country-2-codes';

export interface ValueSetEntry {
  display: string;
  lang: string;
  active: boolean;
  system: string;
  version: string;
}

export interface ValueSet {
  valueSetId: string;
  valueSetDate: string;
  valueSetValues: Record<string, ValueSetEntry>;
}

const cache = new Map<ValueSetName, ValueSet>();

export const valueSet = (name: ValueSetName): ValueSet => {
  let set = cache.get(name);
  if (set === undefined) {
    set = JSON.parse(readFileSync(new URL(`../valuesets/${name}.json`, import.meta.url), 'utf8')) as ValueSet;
    cache.set(name, set);
  }
  return set;
};

/** True when `code` is in the value set and active (deprecated codes such as J07BX03 are not). */
export const isActiveCode = (name: ValueSetName, code: string): boolean =>
  Object.hasOwn(valueSet(name).valueSetValues, code) && valueSet(name).valueSetValues[code]?.active === true;

/** The field each value set constrains, and the etcd key whose values must come from it. */
export const VALUE_SET_OF_KEY = {
  euVaccineCode: 'vaccine-medicinal-product',
  euVaccineProph: 'vaccine-prophylaxis',
  euVaccineManuf: 'vaccine-mah-manf',
} as const satisfies Record<string, ValueSetName>;

/**
 * Problems of the EU etcd maps against the bundled value sets: every value must be an active code of the
 * value set its key feeds (a config loader can run this as a cross-check next to the zod schemas).
 */
export const euMapIssues = (
  maps: Partial<Record<keyof typeof VALUE_SET_OF_KEY, Readonly<Record<string, string>>>>,
): string[] =>
  (Object.keys(VALUE_SET_OF_KEY) as (keyof typeof VALUE_SET_OF_KEY)[]).flatMap((key) =>
    Object.entries(maps[key] ?? {})
      .filter(([, code]) => !isActiveCode(VALUE_SET_OF_KEY[key], code))
      .map(
        ([name, code]) => `${key} maps "${name}" to "${code}", which is not an active code of ${VALUE_SET_OF_KEY[key]}`,
      ),
  );
