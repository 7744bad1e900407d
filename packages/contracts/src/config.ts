import { z } from 'zod';
import {
  EuVaccineCodeConfig,
  EuVaccineManufConfig,
  EuVaccineProphConfig,
  ShcVaccineCodeConfig,
} from './interop-config.js';
import { NotificationTemplates } from './notifications.js';
import { TestCertificateTemplate, VaccineCertificateTemplate } from './templates.js';

/**
 * Schemas of the etcd values (DIVOC's key names). Every value is validated when it is loaded or
 * changed; a value that fails is rejected and the last good one stays in force.
 */

const icd11Code = z.string().regex(/^[A-Z0-9]{4,8}(\.[A-Z0-9]+)?$/, 'must be an ICD-11 code such as XM9QW8');

/** `ICD`: ICD-11 code → what it means. */
export const IcdConfig = z.record(
  icd11Code,
  z.object({
    vaccineType: z.string().min(1),
    icd11Term: z.string().min(1),
    disease: z.string().min(1),
  }),
);
export type IcdConfig = z.infer<typeof IcdConfig>;

/**
 * Vaccine names are compared after this normalisation only (no substring guessing): Unicode NFKC,
 * lower case, single spaces, no spaces around hyphens. "Sputnik  V" = "sputnik v"; "BBIBP- CorV" = "bbibp-corv".
 */
export const normaliseName = (name: string): string =>
  name
    .normalize('NFKC')
    .toLowerCase()
    .trim()
    .replace(/\s+/g, ' ')
    .replace(/\s*-\s*/g, '-');

/** `VACCINE_ICD`: DIVOC's `[{vaccineName, icd11Code}]`, plus optional `aliases` (other names of the same product). */
export const VaccineIcdConfig = z
  .array(
    z.object({
      vaccineName: z.string().min(1),
      icd11Code,
      aliases: z.array(z.string().min(1)).optional(),
    }),
  )
  .superRefine((entries, ctx) => {
    const seen = new Map<string, number>();
    entries.forEach((entry, index) => {
      for (const name of [entry.vaccineName, ...(entry.aliases ?? [])]) {
        const key = normaliseName(name);
        const first = seen.get(key);
        if (first !== undefined && first !== index) {
          ctx.addIssue({
            code: 'custom',
            path: [index, 'vaccineName'],
            message: `"${name}" is already listed in entry ${first}; a name must map to exactly one code`,
          });
        }
        seen.set(key, index);
      }
    });
  });
export type VaccineIcdConfig = z.infer<typeof VaccineIcdConfig>;

/**
 * Normalised name → entry, built once per configuration value. Every certify call looks a vaccine up
 * (the gateway for each item, the signer for each credential); normalising every name and alias each
 * time cost more than building the credential. A configuration value is replaced, never mutated, when
 * etcd changes, so the index of the old value is simply dropped with it.
 */
const vaccineIndexes = new WeakMap<VaccineIcdConfig, Map<string, VaccineIcdConfig[number]>>();
const vaccineIndex = (config: VaccineIcdConfig): Map<string, VaccineIcdConfig[number]> => {
  let index = vaccineIndexes.get(config);
  if (index === undefined) {
    index = new Map();
    for (const entry of config) {
      for (const name of [entry.vaccineName, ...(entry.aliases ?? [])]) {
        const key = normaliseName(name);
        // The first entry wins, as a linear search would (the schema refuses duplicates anyway).
        if (!index.has(key)) index.set(key, entry);
      }
    }
    vaccineIndexes.set(config, index);
  }
  return index;
};

/** Finds the entry whose name or alias equals the given vaccine name after normalisation. */
export const findVaccine = (config: VaccineIcdConfig, vaccineName: string): VaccineIcdConfig[number] | undefined =>
  vaccineIndex(config).get(normaliseName(vaccineName));

/** Cross-key rule: every code that VACCINE_ICD points at must be described in ICD. */
export const checkVaccineCodesKnown = (vaccines: VaccineIcdConfig, icd: IcdConfig): string[] =>
  vaccines
    .filter((entry) => icd[entry.icd11Code] === undefined)
    .map((entry) => `VACCINE_ICD entry "${entry.vaccineName}" points at ${entry.icd11Code}, which ICD does not define`);

/** The etcd keys this system reads, with the schema of each value. */
export const ETCD_KEYS = {
  ICD: IcdConfig,
  VACCINE_ICD: VaccineIcdConfig,
  NOTIFICATION_TEMPLATES: NotificationTemplates,
  vaccineCertificateTemplate: VaccineCertificateTemplate,
  testCertificateTemplate: TestCertificateTemplate,
  euVaccineCode: EuVaccineCodeConfig,
  euVaccineProph: EuVaccineProphConfig,
  euVaccineManuf: EuVaccineManufConfig,
  shcVaccineCode: ShcVaccineCodeConfig,
} as const;
export type EtcdKey = keyof typeof ETCD_KEYS;
