import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import { QrDecodeError } from './errors.js';
import { unzipCredential } from './zip.js';

// jsqr is a CommonJS bundle whose d.ts declares `export default`; under `nodenext` the default import is the
// whole `module.exports`, typed as that namespace. jsqr sets `jsQR.default = jsQR`, so `.default` is the
// function at runtime too, whichever way the import is interop'd.
const jsQR = jsQRModule.default;

/** Decoding allocates 4 bytes per pixel; refuse images larger than a phone photo before decoding them. */
const MAX_PIXELS = 16_000_000;

const checkDimensions = (png: Uint8Array): void => {
  if (png.length < 24) return; // too short to be a PNG: pngjs reports it
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  if (width * height > MAX_PIXELS) {
    throw new QrDecodeError('INVALID_PNG', `the image is ${width}×${height} pixels; at most 16 megapixels are read`);
  }
};

/** The raw bytes of the QR code in a PNG image (`binaryData`, so byte-mode payloads come back exact). */
export const readQrPng = (png: Uint8Array): Uint8Array => {
  checkDimensions(png);
  let image: { width: number; height: number; data: Buffer };
  try {
    // pngjs normalises every colour type and bit depth to 8-bit RGBA, which is what jsQR takes.
    image = PNG.sync.read(Buffer.from(png.buffer, png.byteOffset, png.byteLength));
  } catch (error) {
    throw new QrDecodeError('INVALID_PNG', 'the image is not a readable PNG', { cause: error });
  }
  const { width, height, data } = image;
  let code: ReturnType<typeof jsQR>;
  try {
    code = jsQR(new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength), width, height);
  } catch (error) {
    throw new QrDecodeError('QR_UNREADABLE', 'no QR code could be read from the image', { cause: error });
  }
  if (code === null) throw new QrDecodeError('QR_UNREADABLE', 'no QR code could be read from the image');
  return Uint8Array.from(code.binaryData);
};

/** PNG image of a credential QR code to the credential JSON (zip or plain JSON payload). */
export const decodeCredentialQr = async (png: Uint8Array): Promise<unknown> => unzipCredential(readQrPng(png));
