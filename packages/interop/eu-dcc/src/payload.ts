/** The DCC payload (schema 1.3.x) as this package issues it: one vaccination entry. */
export interface DccVaccinationEntry {
  /** Disease targeted: 840539006 (COVID-19). */
  tg: string;
  /** Vaccine or prophylaxis (SNOMED CT). */
  vp: string;
  /** Medicinal product (EMA number or value-set name). */
  mp: string;
  /** Marketing authorisation holder or manufacturer. */
  ma: string;
  /** Dose number. */
  dn: number;
  /** Total doses in the series. */
  sd: number;
  /** Date of vaccination, YYYY-MM-DD. */
  dt: string;
  /** Country of vaccination, ISO 3166-1 alpha-2. */
  co: string;
  /** Certificate issuer. */
  is: string;
  /** UVCI. */
  ci: string;
}

export interface DccPayload {
  ver: string;
  nam: { fn?: string; fnt?: string; gn?: string; gnt?: string };
  dob: string;
  v?: DccVaccinationEntry[];
  t?: Record<string, unknown>[];
  r?: Record<string, unknown>[];
}

/** The kind of certificate a payload is: vaccination, test or recovery. */
export type DccType = 'v' | 't' | 'r';

export const dccType = (payload: { v?: unknown; t?: unknown; r?: unknown }): DccType | undefined => {
  const present = (['v', 't', 'r'] as const).filter((key) => payload[key] !== undefined);
  return present.length === 1 ? present[0] : undefined;
};

/** COVID-19 (SNOMED CT), the only `tg` of the disease-agent-targeted value set. */
export const COVID_19 = '840539006';
