/** A vaccine with no CVX code in the etcd key `shcVaccineCode`: the API answers 422 naming the key. */
export class ShcMappingError extends Error {
  override readonly name = 'ShcMappingError';
  readonly code = 'SHC_UNMAPPED';
  readonly etcdKey = 'shcVaccineCode';
  constructor(
    readonly field: string,
    readonly value: string,
    message: string,
  ) {
    super(message);
  }
}

/** Why a SMART Health Card could not be decoded or verified. */
export type ShcErrorCode =
  /** Not `shc:/` followed by an even number of digits, each pair at most 77. */
  | 'QR'
  /** Not a compact JWS, or its header is not `{alg: ES256, zip: DEF, kid}`. */
  | 'JWS'
  /** No key of the JWKS has the `kid`, or the signature does not verify. */
  | 'SIGNATURE'
  /** The payload does not inflate (raw DEFLATE) within the size limit, or is not JSON. */
  | 'PAYLOAD'
  /** `iss` is not the expected issuer, or the card is expired / not yet valid. */
  | 'CLAIMS';

export class ShcError extends Error {
  override readonly name = 'ShcError';
  constructor(
    readonly code: ShcErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
