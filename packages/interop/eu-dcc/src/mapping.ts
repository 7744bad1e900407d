import { normaliseName } from '@divoc/contracts';
import type { VaccinationCredential } from '@divoc/credentials';
import { countryAlpha2 } from './countries.js';
import { type EuDccEtcdKey, EuDccInputError, EuDccMappingError } from './errors.js';
import { type EuHolderNames, parseEuHolderNames } from './names.js';
import { COVID_19, type DccPayload } from './payload.js';
import { makeUvci } from './uvci.js';

/** The etcd maps (DIVOC's key names): vaccine name → `mp`, vaccine name → `vp`, manufacturer name → `ma`. */
export interface EuDccMaps {
  euVaccineCode: Readonly<Record<string, string>>;
  euVaccineProph: Readonly<Record<string, string>>;
  euVaccineManuf: Readonly<Record<string, string>>;
}

export interface EuDccMappingOptions {
  /** `v[0].is`: the certificate issuer as printed (DIVOC: `FHIR_PUBLIC_HEALTH_AUTHORITY`), at most 80 characters. */
  certificateIssuer: string;
  maps: EuDccMaps;
  /** ISO 3166-1 alpha-2 of the issuing state, for the UVCI; defaults to the country of vaccination. */
  issuerCountry?: string | undefined;
  /** The payload `ver`; default `1.3.0` (DIVOC's, accepted by every 1.3.x verifier). */
  version?: string | undefined;
}

export const DEFAULT_DCC_VERSION = '1.3.0';

const indexes = new WeakMap<object, Map<string, string>>();

/** Exact lookup after `normaliseName` on both sides: "Covishield", " COVISHIELD " and "covishield" are one key. */
const lookup = (map: Readonly<Record<string, string>>, name: string): string | undefined => {
  let index = indexes.get(map);
  if (index === undefined) {
    index = new Map(Object.entries(map).map(([key, value]) => [normaliseName(key), value]));
    indexes.set(map, index);
  }
  return index.get(normaliseName(name));
};

const mapped = (maps: EuDccMaps, key: EuDccEtcdKey, field: string, name: string | undefined, what: string): string => {
  if (name === undefined || name.trim() === '') {
    throw new EuDccMappingError(field, '', `the credential names no ${what}, so ${field} cannot be filled`, key);
  }
  const value = lookup(maps[key], name);
  if (value === undefined || value.trim() === '') {
    throw new EuDccMappingError(
      field,
      name,
      `${what} "${name}" is not in the etcd key ${key}; add "${normaliseName(name)}" with its EU code to export EU certificates for it`,
      key,
    );
  }
  return value;
};

const FULL_DATE = /^((19|20)\d\d)-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

/** `dob`: the full date when the credential has one in 1900–2099, else the birth year from the age, else "". */
const dateOfBirth = (subject: VaccinationCredential['credentialSubject'], vaccinationDate: string): string => {
  if (subject.dob !== undefined && FULL_DATE.test(subject.dob)) return subject.dob;
  const age = Number(subject.age);
  if (subject.age !== undefined && Number.isInteger(age) && age >= 0) {
    const year = Number(vaccinationDate.slice(0, 4)) - age;
    if (year >= 1900 && year <= 2099) return String(year);
  }
  return '';
};

/** `dt`: the date part of the vaccination timestamp as recorded (DIVOC keeps the request's own date). */
const vaccinationDay = (date: string): string => {
  const day = date.slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`))) {
    throw new EuDccMappingError('v[0].dt', date, `the vaccination date "${date}" does not start with YYYY-MM-DD`);
  }
  return day;
};

const country = (value: string | undefined): string => {
  const alpha2 = value === undefined ? undefined : countryAlpha2(value);
  if (alpha2 === undefined) {
    throw new EuDccMappingError(
      'v[0].co',
      value ?? '',
      `the facility country "${value ?? ''}" is not an ISO 3166-1 code or English country name`,
    );
  }
  return alpha2;
};

/**
 * The DCC vaccination payload for a signed (or unsigned) vaccination credential and the holder's names.
 * Every code comes from an exact, normalised lookup; an unmapped vaccine or manufacturer throws
 * `EuDccMappingError` naming the etcd key to edit, never an empty code.
 */
export const buildDccPayload = (
  credential: VaccinationCredential,
  names: EuHolderNames,
  options: EuDccMappingOptions,
): DccPayload => {
  const holder = parseEuHolderNames(names);
  const issuer = options.certificateIssuer.normalize('NFC').trim();
  if (issuer.length === 0 || issuer.length > 80) {
    throw new EuDccInputError([`the certificate issuer must have 1 to 80 characters, got ${issuer.length}`]);
  }
  const evidence = credential.evidence[0];
  const co = country(evidence.facility.address?.addressCountry);
  const issuerCountry = options.issuerCountry ?? co;
  const dt = vaccinationDay(evidence.date);
  const mp = mapped(options.maps, 'euVaccineCode', 'v[0].mp', evidence.vaccine, 'vaccine');
  const vp = mapped(options.maps, 'euVaccineProph', 'v[0].vp', evidence.vaccine, 'vaccine');
  const ma = mapped(options.maps, 'euVaccineManuf', 'v[0].ma', evidence.manufacturer, 'manufacturer');
  return {
    ver: options.version ?? DEFAULT_DCC_VERSION,
    nam: holder,
    dob: dateOfBirth(credential.credentialSubject, dt),
    v: [
      {
        tg: COVID_19,
        vp,
        mp,
        ma,
        dn: evidence.dose,
        sd: evidence.totalDoses,
        dt,
        co,
        is: issuer,
        ci: makeUvci(issuerCountry, evidence.certificateId),
      },
    ],
  };
};
