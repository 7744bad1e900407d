import { type QrErrorCorrection, type QrMatrix, qrMatrix } from './matrix.js';
import { zipCredential } from './zip.js';

export { QrDecodeError, type QrDecodeErrorCode, QrEncodeError } from './errors.js';
export { type QrErrorCorrection, type QrMatrix, qrMatrix } from './matrix.js';
export { type QrImageOptions, qrPng } from './png.js';
export { decodeCredentialQr, readQrPng } from './read.js';
export { qrSvg } from './svg.js';
export { unzipCredential, zipCredential } from './zip.js';

/** The signed credential as QR payload (deterministic zip bytes) and the symbol that carries them. */
export const credentialQr = async (
  credential: object,
  ecc: QrErrorCorrection = 'M',
): Promise<{ bytes: Uint8Array; matrix: QrMatrix }> => {
  const bytes = await zipCredential(credential);
  return { bytes, matrix: qrMatrix(bytes, ecc) };
};
