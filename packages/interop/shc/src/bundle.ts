import { normaliseName } from '@divoc/contracts';
import type { VaccinationCredential } from '@divoc/credentials';
import { ShcMappingError } from './errors.js';
import { CVX_SYSTEM, type ShcBundle, type ShcImmunization, type ShcPatient } from './fhir.js';

/** The etcd map `shcVaccineCode`: vaccine name → CVX code. */
export interface ShcMaps {
  shcVaccineCode: Readonly<Record<string, string>>;
}

const indexes = new WeakMap<object, Map<string, string>>();

/** The CVX code of a vaccine by exact normalised name; throws `ShcMappingError` naming `shcVaccineCode`. */
export const cvxCode = (maps: ShcMaps, vaccine: string): string => {
  let index = indexes.get(maps.shcVaccineCode);
  if (index === undefined) {
    index = new Map(Object.entries(maps.shcVaccineCode).map(([name, code]) => [normaliseName(name), code]));
    indexes.set(maps.shcVaccineCode, index);
  }
  const code = index.get(normaliseName(vaccine));
  if (code === undefined || code.trim() === '') {
    throw new ShcMappingError(
      'vaccineCode',
      vaccine,
      `vaccine "${vaccine}" is not in the etcd key shcVaccineCode; add "${normaliseName(vaccine)}" with its CVX code to export SMART Health Cards for it`,
    );
  }
  return code;
};

/**
 * FHIR HumanName from the one name string a credential holds: the last word is the family name, the
 * words before it the given names ("Ananya Raghavan" → given Ananya, family Raghavan). A single word is a
 * family name (ICAO 9303 puts a mononym in the primary identifier).
 */
export const splitName = (name: string): { family: string; given?: string[] } => {
  const words = name
    .normalize('NFC')
    .trim()
    .split(/\s+/)
    .filter((word) => word.length > 0);
  const family = words.pop() ?? '';
  return words.length === 0 ? { family } : { family, given: words };
};

const FULL_DATE = /^\d{4}-\d{2}-\d{2}$/;

const birthDate = (
  subject: VaccinationCredential['credentialSubject'],
  vaccinationDate: string,
): string | undefined => {
  if (subject.dob !== undefined && FULL_DATE.test(subject.dob)) return subject.dob;
  const age = Number(subject.age);
  if (subject.age === undefined || !Number.isInteger(age) || age < 0) return undefined;
  return String(Number(vaccinationDate.slice(0, 4)) - age);
};

const day = (date: string): string => {
  const value = date.slice(0, 10);
  if (!FULL_DATE.test(value)) throw new RangeError(`vaccination date "${date}" does not start with YYYY-MM-DD`);
  return value;
};

export interface ShcBundleOptions {
  maps: ShcMaps;
  /** HumanName override, when the caller knows the family/given split. */
  name?: { family: string; given?: string[] } | undefined;
}

/**
 * The FHIR `collection` Bundle of a SMART Health Card (shc-vaccination profile), minified for QR use:
 * Patient at `resource:0`, then one Immunization per credential (doses of the same person, in dose order),
 * each with a CVX `vaccineCode`, `occurrenceDateTime`, `performer[0].actor.display` (the facility) and
 * `lotNumber`. No `id`, `meta`, `text` or `Coding.display`.
 */
export const buildShcBundle = (credentials: readonly VaccinationCredential[], options: ShcBundleOptions): ShcBundle => {
  const first = credentials[0];
  if (first === undefined) throw new RangeError('a SMART Health Card needs at least one vaccination credential');
  const subject = first.credentialSubject;
  if (credentials.some((credential) => credential.credentialSubject.refId !== subject.refId)) {
    throw new RangeError('all credentials of one SMART Health Card must belong to the same person (refId)');
  }
  const doses = [...credentials].sort((a, b) => a.evidence[0].dose - b.evidence[0].dose);
  const dob = birthDate(subject, first.evidence[0].date);
  const patient: ShcPatient = {
    resourceType: 'Patient',
    name: [options.name ?? splitName(subject.name)],
    ...(dob === undefined ? {} : { birthDate: dob }),
  };
  const immunizations = doses.map((credential): ShcImmunization => {
    const evidence = credential.evidence[0];
    return {
      resourceType: 'Immunization',
      status: 'completed',
      vaccineCode: { coding: [{ system: CVX_SYSTEM, code: cvxCode(options.maps, evidence.vaccine) }] },
      patient: { reference: 'resource:0' },
      occurrenceDateTime: day(evidence.date),
      performer: [{ actor: { display: evidence.facility.name } }],
      ...(evidence.batch === undefined ? {} : { lotNumber: evidence.batch }),
    };
  });
  return {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [patient, ...immunizations].map((resource, index) => ({ fullUrl: `resource:${index}`, resource })),
  };
};
