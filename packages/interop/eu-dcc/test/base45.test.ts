import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readJsonFixture } from '../../../../test-fixtures/index.js';
import { Base45Error, base45Decode, base45Encode } from '../src/index.js';

const vectors =
  readJsonFixture<{ decoded: string; encoded: string; decodedHex: string; source: string }[]>('base45-vectors.json');
const invalid = readJsonFixture<{ encoded: string; reason: string }[]>('base45-invalid.json');

describe('Base45 (RFC 9285)', () => {
  it.each(vectors)('encodes and decodes $source: "$encoded"', ({ decodedHex, encoded }) => {
    const bytes = Buffer.from(decodedHex, 'hex');
    expect(base45Encode(bytes)).toBe(encoded);
    expect(Buffer.from(base45Decode(encoded)).toString('hex')).toBe(decodedHex);
  });

  it('has the four RFC examples among the vectors', () => {
    const pairs = vectors.map(({ decoded, encoded }) => [decoded, encoded]);
    expect(pairs).toEqual(
      expect.arrayContaining([
        ['AB', 'BB8'],
        ['Hello!!', '%69 VD92EX0'],
        ['base-45', 'UJCLQE7W581'],
        ['ietf!', 'QED8WEX0'],
      ]),
    );
  });

  it.each(invalid)('rejects "$encoded" ($reason)', ({ encoded }) => {
    expect(() => base45Decode(encoded)).toThrow(Base45Error);
  });

  it('round-trips any bytes, and the text stays in the QR alphanumeric set', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const text = base45Encode(bytes);
        expect(text).toMatch(/^[0-9A-Z $%*+\-./:]*$/);
        expect(text.length).toBe(Math.floor(bytes.length / 2) * 3 + (bytes.length % 2) * 2);
        expect(base45Decode(text)).toEqual(bytes);
      }),
    );
  });
});
