import jsQRModule from 'jsqr';
import JSZip from 'jszip';
import { PNG } from 'pngjs';
import QRCode from 'qrcode';
import { afterEach, describe, expect, it } from 'vitest';
import {
  credentialQr,
  decodeCredentialQr,
  QrDecodeError,
  type QrDecodeErrorCode,
  QrEncodeError,
  type QrErrorCorrection,
  type QrMatrix,
  qrMatrix,
  qrPng,
  qrSvg,
  readQrPng,
  unzipCredential,
  zipCredential,
} from '../src/qr/index.js';
import { crc32 } from '../src/qr/png.js';

const jsQR = jsQRModule.default;

/** Deterministic pseudo-random bytes (xorshift32), so failures reproduce. */
const noise = (length: number, seed = 0x9e3779b9): Uint8Array => {
  const out = new Uint8Array(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    out[i] = state & 0xff;
  }
  return out;
};

/** A signed-credential-shaped object of roughly `targetLength` bytes of compact JSON. */
const credentialLike = (targetLength: number): Record<string, unknown> => {
  const credential: Record<string, unknown> = {
    '@context': ['https://www.w3.org/2018/credentials/v1', 'https://cowin.gov.in/credentials/vaccination/v1'],
    type: ['VerifiableCredential', 'ProofOfVaccinationCredential'],
    credentialSubject: {
      type: 'Person',
      id: 'did:india:12346',
      refId: '12346',
      name: 'Priya Ramanathan',
      gender: 'Female',
      age: '34',
      nationality: 'Indian',
      address: { streetAddress: '', district: 'Pune', addressRegion: 'Maharashtra', addressCountry: 'IN' },
    },
    issuer: 'https://cowin.gov.in/',
    issuanceDate: '2021-08-09T12:00:00.000Z',
    evidence: [
      {
        id: 'https://cowin.gov.in/vaccine/06FSSQK3XWZ7KMHB33BR6',
        feedbackUrl: 'https://cowin.gov.in/?06FSSQK3XWZ7KMHB33BR6',
        infoUrl: 'https://cowin.gov.in/?06FSSQK3XWZ7KMHB33BR6',
        certificateId: '06FSSQK3XWZ7KMHB33BR6',
        type: ['Vaccination'],
        batch: 'MB3428BX',
        vaccine: 'COVISHIELD',
        manufacturer: 'Serum Institute of India',
        date: '2021-05-18T10:00:00.000Z',
        effectiveStart: '2021-05-18',
        effectiveUntil: '2022-05-18',
        dose: 1,
        totalDoses: 2,
        verifier: { name: 'Dr. Anand Kulkarni' },
        facility: {
          name: 'PHC Hadapsar',
          address: { streetAddress: 'Hadapsar', district: 'Pune', addressRegion: 'Maharashtra', addressCountry: 'IN' },
        },
      },
    ],
    nonTransferable: 'true',
  };
  // The signature is high-entropy base64url, which is what keeps real payloads from compressing much.
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const proof = { type: 'Ed25519Signature2020', created: '2021-08-09T12:00:00Z', proofValue: '' };
  credential.proof = proof;
  const bytes = noise(4096, 7);
  let i = 0;
  while (JSON.stringify(credential).length < targetLength) {
    proof.proofValue += alphabet[(bytes[i++] as number) & 63];
  }
  return credential;
};

const expectDecodeError = async (promise: Promise<unknown>, code: QrDecodeErrorCode): Promise<void> => {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(QrDecodeError);
  expect((error as QrDecodeError).code).toBe(code);
};

/** Reads a PNG with pngjs and jsQR directly, independently of `readQrPng`. */
const independentRead = (png: Uint8Array): { bytes: Uint8Array; version: number } => {
  const image = PNG.sync.read(Buffer.from(png));
  const code = jsQR(new Uint8ClampedArray(image.data), image.width, image.height);
  if (code === null) throw new Error('jsQR found no QR code');
  return { bytes: Uint8Array.from(code.binaryData), version: code.version };
};

const darkCount = (matrix: QrMatrix): number => matrix.modules.reduce((sum, module) => sum + module, 0);

/** ECC level M byte-mode capacities of versions 1..40 (ISO/IEC 18004 table 7). */
const BYTE_CAPACITY_M = [
  14, 26, 42, 62, 84, 106, 122, 152, 180, 213, 251, 287, 331, 362, 412, 450, 504, 560, 624, 666, 711, 779, 857, 911,
  997, 1059, 1125, 1190, 1264, 1370, 1452, 1538, 1628, 1722, 1809, 1911, 1989, 2099, 2213, 2331,
];
const versionForBytesM = (length: number): number => BYTE_CAPACITY_M.findIndex((capacity) => capacity >= length) + 1;

describe('zip', () => {
  const originalTz = process.env.TZ;
  afterEach(() => {
    if (originalTz === undefined) delete process.env.TZ;
    else process.env.TZ = originalTz;
  });

  it('is deterministic, also across time zones', async () => {
    const credential = credentialLike(1500);
    const first = await zipCredential(credential);
    expect(Buffer.from(await zipCredential(credential)).equals(first)).toBe(true);
    const offsets = new Set<number>();
    for (const zone of ['America/Los_Angeles', 'Asia/Kolkata', 'Pacific/Kiritimati', 'Etc/GMT+12']) {
      process.env.TZ = zone; // Node picks a changed TZ up at once
      offsets.add(new Date(2020, 0, 1).getTimezoneOffset());
      expect(Buffer.from(await zipCredential(credential)).equals(first)).toBe(true);
    }
    expect(offsets.size).toBe(4); // the zones really took effect
  });

  it('holds only certificate.json, deflated, dated 2020-01-01 00:00', async () => {
    const bytes = await zipCredential({ hello: 'world' });
    const view = Buffer.from(bytes);
    expect(view.readUInt32LE(0)).toBe(0x04034b50); // local file header
    expect(view.readUInt16LE(8)).toBe(8); // DEFLATE
    expect(view.readUInt16LE(10)).toBe(0); // DOS time 00:00:00
    expect(view.readUInt16LE(12)).toBe(((2020 - 1980) << 9) | (1 << 5) | 1); // DOS date 2020-01-01
    const zip = await JSZip.loadAsync(bytes);
    expect(Object.keys(zip.files)).toEqual(['certificate.json']);
    expect(await zip.file('certificate.json')?.async('string')).toBe('{"hello":"world"}');
  });

  it('round-trips, keeping non-ASCII text', async () => {
    const credential = { ...credentialLike(1500), note: 'Prïyā — प्रिया 🩺' };
    expect(await unzipCredential(await zipCredential(credential))).toEqual(credential);
  });

  it('accepts a plain JSON payload, as DIVOC verifiers did', async () => {
    const credential = credentialLike(400);
    expect(await unzipCredential(Buffer.from(`\ufeff ${JSON.stringify(credential)}`))).toEqual(credential);
  });

  it('turns garbage into typed errors', async () => {
    await expectDecodeError(unzipCredential(noise(300)), 'NOT_A_ZIP');
    await expectDecodeError(unzipCredential(new Uint8Array(0)), 'NOT_A_ZIP');
    const truncated = (await zipCredential(credentialLike(600))).subarray(0, 200);
    await expectDecodeError(unzipCredential(truncated), 'NOT_A_ZIP');
    await expectDecodeError(unzipCredential(Buffer.from('{"not": json')), 'INVALID_JSON');

    const other = new JSZip();
    other.file('credential.json', '{}');
    await expectDecodeError(unzipCredential(await other.generateAsync({ type: 'uint8array' })), 'NO_CERTIFICATE_JSON');

    const broken = new JSZip();
    broken.file('certificate.json', '{"proof": ');
    await expectDecodeError(unzipCredential(await broken.generateAsync({ type: 'uint8array' })), 'INVALID_JSON');

    const latin1 = new JSZip();
    latin1.file('certificate.json', Uint8Array.of(0x7b, 0x22, 0xe9, 0x22, 0x3a, 0x31, 0x7d)); // {"é":1} in Latin-1
    await expectDecodeError(unzipCredential(await latin1.generateAsync({ type: 'uint8array' })), 'INVALID_JSON');
  });
});

describe('matrix', () => {
  it('is module for module what qrcode builds with its own mask search', () => {
    const levels: QrErrorCorrection[] = ['L', 'M', 'Q', 'H'];
    for (const [index, length] of [1, 17, 60, 150, 300, 555, 900, 1100, 1250].entries()) {
      for (const ecc of levels) {
        const bytes = noise(length, index + 1);
        const reference = QRCode.create([{ data: bytes, mode: 'byte' }], { errorCorrectionLevel: ecc });
        const matrix = qrMatrix(bytes, ecc);
        expect(matrix.version).toBe(reference.version);
        expect(matrix.size).toBe(reference.modules.size);
        expect(Buffer.from(matrix.modules).equals(Buffer.from(reference.modules.data))).toBe(true);
      }
    }
  });

  it('chooses the mask qrcode chooses for 120 random payloads of every size up to version 40', () => {
    // Version 40's byte capacity at each level.
    const capacity: Record<QrErrorCorrection, number> = { L: 2953, M: 2331, Q: 1663, H: 1273 };
    for (let index = 0; index < 120; index++) {
      const ecc = (['L', 'M', 'Q', 'H'] as const)[index % 4] as QrErrorCorrection;
      const length = 1 + ((index * 7919) % capacity[ecc]);
      const bytes = noise(length, 1000 + index);
      const reference = QRCode.create([{ data: bytes, mode: 'byte' }], { errorCorrectionLevel: ecc });
      expect(Buffer.from(qrMatrix(bytes, ecc).modules).equals(Buffer.from(reference.modules.data))).toBe(true);
    }
  });

  it('defaults to ECC M and rejects payloads beyond version 40', () => {
    const bytes = noise(500);
    expect(qrMatrix(bytes).modules).toEqual(qrMatrix(bytes, 'M').modules);
    expect(qrMatrix(noise(2331)).version).toBe(40);
    expect(() => qrMatrix(noise(2332))).toThrow(QrEncodeError);
  });

  it('encodes bytes >= 0x80 as raw bytes, not UTF-8', () => {
    const bytes = noise(600, 42).map((byte) => byte | 0x80);
    const matrix = qrMatrix(bytes);
    expect(matrix.version).toBe(versionForBytesM(600));
    // The same data as a string of code points is UTF-8-encoded by qrcode: 1,200 bytes.
    const inflated = QRCode.create(String.fromCharCode(...bytes), { errorCorrectionLevel: 'M' });
    expect(inflated.version).toBe(versionForBytesM(1200));
    expect(matrix.version).toBeLessThan(inflated.version);
    expect(independentRead(qrPng(matrix)).bytes).toEqual(bytes);
  });
});

describe('png', () => {
  it('is a 1-bit grayscale PNG that an independent reader decodes to the zip bytes', async () => {
    const { bytes, matrix } = await credentialQr(credentialLike(1500));
    expect(Buffer.from(bytes).equals(Buffer.from(await zipCredential(credentialLike(1500))))).toBe(true);
    const png = qrPng(matrix);
    const side = (matrix.size + 2 * 4) * 4;

    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(png.readUInt32BE(8)).toBe(13);
    expect(png.toString('latin1', 12, 16)).toBe('IHDR');
    expect(png.readUInt32BE(16)).toBe(side);
    expect(png.readUInt32BE(20)).toBe(side);
    expect(png[24]).toBe(1); // bit depth
    expect(png[25]).toBe(0); // colour type: grayscale
    expect([...png.subarray(26, 29)]).toEqual([0, 0, 0]);
    expect(png.toString('latin1', png.length - 8, png.length - 4)).toBe('IEND');

    const image = PNG.sync.read(png); // pngjs checks every chunk CRC by default
    expect(image.width).toBe(side);
    expect(image.height).toBe(side);
    const decoded = independentRead(png);
    expect(decoded.version).toBe(matrix.version);
    expect(Buffer.from(decoded.bytes).equals(Buffer.from(bytes))).toBe(true);
  });

  it('draws each module as scale x scale pixels inside the quiet zone', () => {
    const matrix = qrMatrix(noise(100));
    const scale = 3;
    const margin = 2;
    const image = PNG.sync.read(qrPng(matrix, { scale, margin }));
    expect(image.width).toBe((matrix.size + 2 * margin) * scale);
    let mismatches = 0;
    for (let y = 0; y < image.height; y++) {
      for (let x = 0; x < image.width; x++) {
        const row = Math.floor(y / scale) - margin;
        const col = Math.floor(x / scale) - margin;
        const inside = row >= 0 && row < matrix.size && col >= 0 && col < matrix.size;
        const dark = inside && matrix.modules[row * matrix.size + col] === 1;
        if (image.data[(y * image.width + x) * 4] !== (dark ? 0 : 255)) mismatches++;
      }
    }
    expect(mismatches).toBe(0);
  });

  it('rejects a scale or margin that is not a whole number', () => {
    const matrix = qrMatrix(noise(10));
    expect(() => qrPng(matrix, { scale: 0 })).toThrow(RangeError);
    expect(() => qrPng(matrix, { margin: 1.5 })).toThrow(RangeError);
    expect(() => qrSvg(matrix, { margin: -1 })).toThrow(RangeError);
  });

  it('computes the standard CRC-32', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.from('IEND'))).toBe(0xae426082);
  });
});

describe('svg', () => {
  it('has one subpath per run of dark modules, covering every dark module', () => {
    const matrix = qrMatrix(noise(300));
    const svg = qrSvg(matrix);
    const extent = matrix.size + 8;
    expect(svg).toContain(`viewBox="0 0 ${extent} ${extent}"`);
    expect(svg).toContain(`width="${extent * 4}" height="${extent * 4}"`);
    expect(svg).toContain('shape-rendering="crispEdges"');
    expect(svg).toContain(`<rect width="${extent}" height="${extent}" fill="#fff"/>`);
    expect(svg.match(/<path /g)).toHaveLength(1);

    let runs = 0;
    for (let r = 0; r < matrix.size; r++) {
      for (let c = 0; c < matrix.size; c++) {
        const dark = matrix.modules[r * matrix.size + c] === 1;
        const previousDark = c > 0 && matrix.modules[r * matrix.size + c - 1] === 1;
        if (dark && !previousDark) runs++;
      }
    }
    const subpaths = [...svg.matchAll(/M(\d+) (\d+)h(\d+)v1h-(\d+)z/g)];
    expect(subpaths).toHaveLength(runs);
    let covered = 0;
    for (const [, x, y, length, back] of subpaths) {
      expect(back).toBe(length);
      const row = Number(y) - 4;
      for (let col = Number(x) - 4; col < Number(x) - 4 + Number(length); col++) {
        expect(matrix.modules[row * matrix.size + col]).toBe(1);
        covered++;
      }
    }
    expect(covered).toBe(darkCount(matrix));
  });

  it('honours margin and scale', () => {
    const matrix = qrMatrix(noise(20));
    const svg = qrSvg(matrix, { margin: 0, scale: 10 });
    expect(svg).toContain(`viewBox="0 0 ${matrix.size} ${matrix.size}"`);
    expect(svg).toContain(`width="${matrix.size * 10}"`);
    expect(svg).toContain('d="M0 0h7v1h-7z'); // the top-left finder pattern's top edge
  });
});

describe('decode', () => {
  it('round-trips a ~1,500-byte credential: PNG -> JSON', async () => {
    const credential = credentialLike(1500);
    expect(JSON.stringify(credential).length).toBeGreaterThanOrEqual(1500);
    const { bytes, matrix } = await credentialQr(credential);
    const png = qrPng(matrix);
    expect(readQrPng(png)).toEqual(bytes);
    expect(await decodeCredentialQr(png)).toEqual(credential);
  });

  it('round-trips at every error correction level', async () => {
    const credential = credentialLike(900);
    for (const ecc of ['L', 'M', 'Q', 'H'] as const) {
      const { matrix } = await credentialQr(credential, ecc);
      expect(await decodeCredentialQr(qrPng(matrix, { scale: 2 }))).toEqual(credential);
    }
  });

  it('reads a QR code that carries plain JSON text', async () => {
    const credential = credentialLike(300);
    const png = qrPng(qrMatrix(Buffer.from(JSON.stringify(credential))));
    expect(await decodeCredentialQr(png)).toEqual(credential);
  });

  it('reports an image without a QR code, and bytes that are no PNG', async () => {
    const blank = new PNG({ width: 64, height: 64 });
    blank.data.fill(255);
    await expectDecodeError(decodeCredentialQr(PNG.sync.write(blank)), 'QR_UNREADABLE');
    await expectDecodeError(decodeCredentialQr(noise(500)), 'INVALID_PNG');
    const notZip = qrPng(qrMatrix(noise(200)));
    await expectDecodeError(decodeCredentialQr(notZip), 'NOT_A_ZIP');
  });
});
