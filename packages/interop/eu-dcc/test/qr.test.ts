import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import QRCode from 'qrcode';
import { describe, expect, it } from 'vitest';
import { alphanumericQrMatrix, exportEuDcc, hc1QrMatrix, hc1QrPng } from '../src/index.js';
import { credentialFor, exportConfig, ISSUED_AT, names, testSigner } from './support.js';

const jsQR = jsQRModule.default;

const read = (png: Buffer) => {
  const image = PNG.sync.read(png);
  return jsQR(
    new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.byteLength),
    image.width,
    image.height,
  );
};

describe('HC1 QR code (alphanumeric segment, ECC Q)', () => {
  it('decodes with jsQR back to the HC1 string', async () => {
    const { hc1 } = exportEuDcc(credentialFor(1), names, exportConfig, await testSigner(), ISSUED_AT);
    const code = read(hc1QrPng(hc1));
    expect(code?.data).toBe(hc1);
  });

  it('uses an alphanumeric segment at ECC Q: a smaller symbol than byte mode needs for the same text', async () => {
    const { hc1 } = exportEuDcc(credentialFor(1), names, exportConfig, await testSigner(), ISSUED_AT);
    const matrix = hc1QrMatrix(hc1);
    const byteMode = QRCode.create([{ data: Buffer.from(hc1, 'latin1'), mode: 'byte' }], { errorCorrectionLevel: 'Q' });
    expect(matrix.version).toBeLessThan(byteMode.version);
    const sameMode = QRCode.create([{ data: hc1, mode: 'alphanumeric' }], { errorCorrectionLevel: 'Q' });
    expect(matrix.version).toBe(sameMode.version);
    expect(matrix.size).toBe(17 + 4 * matrix.version);
  });

  it('refuses text outside the QR alphanumeric set', () => {
    expect(() => alphanumericQrMatrix('HC1:abc')).toThrow(RangeError);
  });
});
