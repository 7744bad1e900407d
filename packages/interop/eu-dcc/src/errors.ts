/** The etcd keys an operator edits to fix an unmapped vaccine or manufacturer. */
export type EuDccEtcdKey = 'euVaccineCode' | 'euVaccineProph' | 'euVaccineManuf';

/** Base class of every error this package raises on purpose; `code` is stable, `message` is for people. */
export class EuDccError extends Error {
  override readonly name: string = 'EuDccError';
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The credential holds a value the EU maps or value sets cannot express (an unmapped vaccine or
 * manufacturer, an unknown country). The API answers 422; `etcdKey` names the key to edit, if any.
 * An EU certificate with an empty or invented code is never produced instead.
 */
export class EuDccMappingError extends EuDccError {
  override readonly name = 'EuDccMappingError';
  constructor(
    /** Path of the DCC field that could not be filled, e.g. `v[0].mp`. */
    readonly field: string,
    /** The credential value that has no mapping. */
    readonly value: string,
    message: string,
    /** The etcd key whose value must gain an entry for `value`, when one would fix it. */
    readonly etcdKey?: EuDccEtcdKey,
  ) {
    super('EU_DCC_UNMAPPED', message);
  }
}

/** Holder-supplied data (names) that breaks the DCC rules; `issues` lists every problem. */
export class EuDccInputError extends EuDccError {
  override readonly name = 'EuDccInputError';
  constructor(readonly issues: readonly string[]) {
    super('EU_DCC_INVALID_INPUT', `invalid EU-DCC input: ${issues.join('; ')}`);
  }
}

/** A payload that fails the official DCC JSON schema or the bundled value sets; never signed. */
export class EuDccSchemaError extends EuDccError {
  override readonly name = 'EuDccSchemaError';
  constructor(readonly issues: readonly string[]) {
    super('EU_DCC_SCHEMA_INVALID', `the EU-DCC payload is invalid: ${issues.join('; ')}`);
  }
}

/** The Document Signer Certificate or its key cannot sign (wrong key type, key/certificate mismatch, expired). */
export class EuDccSignerError extends EuDccError {
  override readonly name = 'EuDccSignerError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('EU_DCC_SIGNER', message, options);
  }
}

/** Where decoding or verifying an `HC1:` string stopped. */
export type Hc1ErrorCode =
  /** No `HC1:` context prefix. */
  | 'PREFIX'
  /** Not valid Base45. */
  | 'BASE45'
  /** Not a zlib stream (or it inflates beyond the limit). */
  | 'COMPRESSION'
  /** Not a COSE_Sign1 structure (tag 18, optionally inside tag 61), or an unsupported algorithm. */
  | 'COSE'
  /** The CWT claims are missing, mistyped or carry no hcert payload. */
  | 'CWT'
  /** The key identifier is missing or not 8 bytes long. */
  | 'KID'
  /** No trusted DSC has this key identifier. */
  | 'KID_UNKNOWN'
  /** No trusted DSC with this key identifier verifies the signature. */
  | 'SIGNATURE'
  /** `exp` is in the past at the validation clock. */
  | 'EXPIRED'
  /** `iat` is in the future at the validation clock. */
  | 'NOT_YET_VALID'
  /** The DSC's extended key usage does not allow this certificate type. */
  | 'KEY_USAGE'
  /** The payload fails the DCC schema. */
  | 'SCHEMA';

export class Hc1Error extends EuDccError {
  override readonly name = 'Hc1Error';
  constructor(
    readonly stage: Hc1ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`HC1_${stage}`, message, options);
  }
}
