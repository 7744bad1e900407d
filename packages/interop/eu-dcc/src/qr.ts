import { type QrErrorCorrection, type QrImageOptions, type QrMatrix, qrPng } from '@divoc/credentials';
import QRCode from 'qrcode';

const ALPHANUMERIC = /^[0-9A-Z $%*+\-./:]*$/;

/**
 * The QR symbol of a text in one **alphanumeric** segment (5.5 bits per character). Base45 uses exactly the
 * QR alphanumeric set, so an `HC1:` string never needs byte mode. ECC Q is what the EU-DCC spec recommends.
 */
export const alphanumericQrMatrix = (text: string, ecc: QrErrorCorrection = 'Q'): QrMatrix => {
  if (!ALPHANUMERIC.test(text)) throw new RangeError('the text has characters outside the QR alphanumeric set');
  const code = QRCode.create([{ data: text, mode: 'alphanumeric' }], { errorCorrectionLevel: ecc });
  return { size: code.modules.size, version: code.version, modules: code.modules.data };
};

/** The EU-DCC QR code (alphanumeric, ECC Q) of an `HC1:` string. */
export const hc1QrMatrix = (hc1: string): QrMatrix => alphanumericQrMatrix(hc1, 'Q');

/** The EU-DCC QR code as a 1-bit PNG. */
export const hc1QrPng = (hc1: string, options?: QrImageOptions): Buffer => qrPng(hc1QrMatrix(hc1), options);
