import { z } from 'zod';

/**
 * Schemas of the etcd values that map vaccine and manufacturer names to the codes of the EU-DCC and
 * SMART Health Card exports (DIVOC's key names). Lookups are exact after `normaliseName`; a name missing
 * from a map makes the export fail with an error naming the key — the exporters never emit an empty code.
 *
 * Whether a code is in the EU value sets is checked by `@divoc/eu-dcc` (`euMapIssues`), which bundles them.
 */

/**
 * The same normalisation as `normaliseName` in config.ts (NFKC, lower case, single spaces, no spaces around
 * hyphens). It is repeated here because config.ts imports this module for `ETCD_KEYS`; importing config.ts
 * back would make the module graph cyclic and break whichever file is loaded first.
 */
const keyOf = (name: string): string =>
  name
    .normalize('NFKC')
    .toLowerCase()
    .trim()
    .replace(/\s+/g, ' ')
    .replace(/\s*-\s*/g, '-');

/** A name → code map whose keys stay distinct after normalisation ("Sputnik V" and "sputnik  v" collide). */
const nameMap = (code: z.ZodString) =>
  z.record(z.string().min(1).max(200), code).superRefine((map, ctx) => {
    const seen = new Map<string, string>();
    for (const key of Object.keys(map)) {
      const normalised = keyOf(key);
      const first = seen.get(normalised);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `"${key}" and "${first}" are the same name after normalisation; keep one`,
        });
      }
      seen.set(normalised, key);
    }
  });

/** `euVaccineCode`: vaccine name → EU medicinal product `mp` (EMA number such as EU/1/20/1528, or a value-set name such as BBIBP-CorV). */
export const EuVaccineCodeConfig = nameMap(
  z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9/.-]*$/,
      'must be an EU medicinal-product code such as EU/1/20/1528 or BBIBP-CorV (letters, digits, / . - and no spaces)',
    ),
);
export type EuVaccineCodeConfig = z.infer<typeof EuVaccineCodeConfig>;

/** `euVaccineProph`: vaccine name → EU vaccine/prophylaxis `vp`, a SNOMED CT concept id (J07BX03 is deprecated). */
export const EuVaccineProphConfig = nameMap(
  z.string().regex(/^\d{6,18}$/, 'must be a SNOMED CT code such as 1119349007 (the ATC code J07BX03 is deprecated)'),
);
export type EuVaccineProphConfig = z.infer<typeof EuVaccineProphConfig>;

/** `euVaccineManuf`: manufacturer name → EU marketing-authorisation holder `ma` (ORG-100001981, Bharat-Biotech, …). */
export const EuVaccineManufConfig = nameMap(
  z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9.-]*$/,
      'must be an EU manufacturer code such as ORG-100001981 or Sinovac-Biotech (letters, digits, . - and no spaces)',
    ),
);
export type EuVaccineManufConfig = z.infer<typeof EuVaccineManufConfig>;

/** `shcVaccineCode`: vaccine name → CVX code for SMART Health Cards (e.g. 208 Pfizer, 210 AstraZeneca/Covishield). */
export const ShcVaccineCodeConfig = nameMap(z.string().regex(/^\d{1,3}$/, 'must be a CVX code such as 208'));
export type ShcVaccineCodeConfig = z.infer<typeof ShcVaccineCodeConfig>;
