/** The credential lacks what a DDCC:VS document requires (ICD-11 code, country); `etcdKey` names the key to edit. */
export class FhirMappingError extends Error {
  override readonly name = 'FhirMappingError';
  readonly code = 'FHIR_UNMAPPED';
  constructor(
    readonly field: string,
    readonly value: string,
    message: string,
    readonly etcdKey?: 'VACCINE_ICD',
  ) {
    super(message);
  }
}
