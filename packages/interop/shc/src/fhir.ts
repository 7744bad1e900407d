/** The minified FHIR R4 shapes a SMART Health Card carries (no ids, meta, text or Coding.display). */
export interface ShcCoding {
  system: string;
  code: string;
}

export interface ShcPatient {
  resourceType: 'Patient';
  name: { family?: string; given?: string[] }[];
  birthDate?: string;
}

export interface ShcImmunization {
  resourceType: 'Immunization';
  status: 'completed';
  vaccineCode: { coding: ShcCoding[] };
  patient: { reference: string };
  occurrenceDateTime: string;
  performer?: { actor: { display: string } }[];
  lotNumber?: string;
}

export interface ShcBundle {
  resourceType: 'Bundle';
  type: 'collection';
  entry: { fullUrl: string; resource: ShcPatient | ShcImmunization }[];
}

export const CVX_SYSTEM = 'http://hl7.org/fhir/sid/cvx';
