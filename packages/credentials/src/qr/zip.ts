import JSZip from 'jszip';
import { QrDecodeError } from './errors.js';

/** The one file in the zip, as DIVOC names it. */
export const CERTIFICATE_FILE = 'certificate.json';

/**
 * A fixed modification time so the same credential always zips to the same bytes (and so the same QR).
 * jszip 3.10 writes the DOS date/time fields from the UTC parts of the date, so the time zone does not leak in.
 */
const FIXED_DATE = new Date(Date.UTC(2020, 0, 1));

const MAX_PAYLOAD_BYTES = 4096;

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04]; // "PK\3\4", a local file header

/** The compact JSON of the credential as `certificate.json` in a DEFLATE (level 9) zip, byte-for-byte deterministic. */
export const zipCredential = async (credential: object): Promise<Uint8Array> => {
  const zip = new JSZip();
  zip.file(CERTIFICATE_FILE, JSON.stringify(credential), { date: FIXED_DATE, createFolders: false });
  return zip.generateAsync({
    type: 'uint8array',
    compression: 'DEFLATE',
    compressionOptions: { level: 9 },
    platform: 'DOS',
  });
};

const startsWith = (bytes: Uint8Array, prefix: readonly number[]): boolean =>
  bytes.length >= prefix.length && prefix.every((byte, index) => bytes[index] === byte);

const parseJson = (text: string, where: string): unknown => {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new QrDecodeError('INVALID_JSON', `${where} is not valid JSON`, { cause: error });
  }
};

// fatal: invalid UTF-8 is an error rather than U+FFFD silently inside a signed document; BOM is stripped by default.
const utf8 = new TextDecoder('utf-8', { fatal: true });

const decodeUtf8 = (bytes: Uint8Array, where: string): string => {
  try {
    return utf8.decode(bytes);
  } catch (error) {
    throw new QrDecodeError('INVALID_JSON', `${where} is not UTF-8 text`, { cause: error });
  }
};

/** Plain JSON text starts with `{` or `[` after optional whitespace or a BOM. */
const looksLikeJson = (bytes: Uint8Array): boolean => {
  for (const byte of bytes) {
    if (byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d) continue;
    if (byte === 0xef) return true; // UTF-8 BOM
    return byte === 0x7b || byte === 0x5b;
  }
  return false;
};

/**
 * Zip bytes (as made by `zipCredential`) to the parsed `certificate.json`. Like DIVOC's verifier, a payload
 * that is plain JSON text instead of a zip is accepted too. Throws `QrDecodeError` only.
 */
export const unzipCredential = async (bytes: Uint8Array): Promise<unknown> => {
  // No QR code holds more than 2,953 bytes; the cap bounds what a crafted zip can inflate to (~1,000×).
  if (bytes.length > MAX_PAYLOAD_BYTES) {
    throw new QrDecodeError('NOT_A_ZIP', `the QR payload is ${bytes.length} bytes; a QR code holds at most 2,953`);
  }
  if (!startsWith(bytes, ZIP_MAGIC)) {
    if (looksLikeJson(bytes)) return parseJson(decodeUtf8(bytes, 'the QR payload'), 'the QR payload');
    throw new QrDecodeError('NOT_A_ZIP', 'the QR payload is neither a zip nor JSON text');
  }
  let zip: JSZip;
  try {
    zip = await JSZip.loadAsync(bytes, { checkCRC32: true });
  } catch (error) {
    throw new QrDecodeError('NOT_A_ZIP', 'the QR payload is not a readable zip', { cause: error });
  }
  const file = zip.file(CERTIFICATE_FILE);
  if (file === null) {
    throw new QrDecodeError('NO_CERTIFICATE_JSON', `the zip in the QR code has no ${CERTIFICATE_FILE}`);
  }
  let content: Uint8Array;
  try {
    content = await file.async('uint8array');
  } catch (error) {
    // A corrupt deflate stream or a CRC mismatch surfaces only here, when the entry is inflated.
    throw new QrDecodeError('NOT_A_ZIP', `${CERTIFICATE_FILE} in the zip cannot be inflated`, { cause: error });
  }
  return parseJson(decodeUtf8(content, CERTIFICATE_FILE), CERTIFICATE_FILE);
};
