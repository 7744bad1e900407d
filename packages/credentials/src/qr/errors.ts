import type { QrErrorCorrection } from './matrix.js';

/** Why a QR image or payload could not be turned back into a credential, in terms a verifier can act on. */
export type QrDecodeErrorCode =
  /** The bytes are not a PNG that can be decoded. */
  | 'INVALID_PNG'
  /** The image holds no QR code that can be found and read. */
  | 'QR_UNREADABLE'
  /** The payload is neither a zip nor JSON text. */
  | 'NOT_A_ZIP'
  /** The zip holds no `certificate.json`. */
  | 'NO_CERTIFICATE_JSON'
  /** The certificate text is not valid JSON (or not UTF-8). */
  | 'INVALID_JSON';

/** Raised by the decode path; the library error, if any, is kept as `cause` rather than surfaced raw. */
export class QrDecodeError extends Error {
  override readonly name = 'QrDecodeError';
  constructor(
    readonly code: QrDecodeErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Raised when a payload does not fit in the largest QR code (version 40) at the requested error correction. */
export class QrEncodeError extends Error {
  override readonly name = 'QrEncodeError';
  readonly code = 'PAYLOAD_TOO_LARGE';
  constructor(
    readonly byteLength: number,
    readonly errorCorrection: QrErrorCorrection,
    options?: { cause?: unknown },
  ) {
    super(
      `a ${byteLength}-byte payload does not fit in a QR code at error correction ${errorCorrection}; ` +
        'shrink the credential or use a lower error correction level',
      options,
    );
  }
}
