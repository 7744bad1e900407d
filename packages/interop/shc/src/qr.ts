import { type QrErrorCorrection, type QrImageOptions, type QrMatrix, qrPng } from '@divoc/credentials';
import QRCode from 'qrcode';
import { ShcError } from './errors.js';

export const SHC_QR_PREFIX = 'shc:/';

/** The QR content: `shc:/` and two digits per JWS character, `charCode - 45` ('-' is the lowest). */
export const shcQrContent = (jws: string): string => {
  let digits = '';
  for (let i = 0; i < jws.length; i++) {
    const value = jws.charCodeAt(i) - 45;
    if (value < 0 || value > 77)
      throw new RangeError(`character ${JSON.stringify(jws[i])} cannot appear in a compact JWS`);
    digits += value < 10 ? `0${value}` : String(value);
  }
  return SHC_QR_PREFIX + digits;
};

/** The JWS inside `shc:/…` QR content. Chunked (`shc:/1/2/…`) content is refused: chunking is deprecated. */
export const decodeShcQr = (content: string): string => {
  const trimmed = content.trim();
  if (!trimmed.startsWith(SHC_QR_PREFIX)) throw new ShcError('QR', 'SMART Health Card QR content starts with "shc:/"');
  const digits = trimmed.slice(SHC_QR_PREFIX.length);
  if (/^\d+\/\d+\//.test(digits))
    throw new ShcError('QR', 'chunked SMART Health Card QR codes are deprecated and not read');
  if (!/^(\d\d)+$/.test(digits)) throw new ShcError('QR', 'the content after "shc:/" must be an even number of digits');
  let jws = '';
  for (let i = 0; i < digits.length; i += 2) {
    const value = Number(digits.slice(i, i + 2));
    if (value > 77) throw new ShcError('QR', `digit pair ${value} at ${i} is above 77`);
    jws += String.fromCharCode(value + 45);
  }
  return jws;
};

/**
 * The QR symbol: a byte segment `shc:/` and a numeric segment of the digits (3.33 bits per digit), as the
 * spec requires. ECC L by default: that is what keeps a 1195-character JWS within version 22.
 */
export const shcQrMatrix = (jws: string, ecc: QrErrorCorrection = 'L'): QrMatrix => {
  const digits = shcQrContent(jws).slice(SHC_QR_PREFIX.length);
  const code = QRCode.create(
    [
      { data: Buffer.from(SHC_QR_PREFIX, 'latin1'), mode: 'byte' },
      { data: digits, mode: 'numeric' },
    ],
    { errorCorrectionLevel: ecc },
  );
  return { size: code.modules.size, version: code.version, modules: code.modules.data };
};

export const shcQrPng = (jws: string, options?: QrImageOptions & { ecc?: QrErrorCorrection }): Buffer =>
  qrPng(shcQrMatrix(jws, options?.ecc), options);
