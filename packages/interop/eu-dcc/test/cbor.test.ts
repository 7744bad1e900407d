import nodeCbor from 'cbor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CborError, CborTag, type CborValue, cborToJson, decodeCbor, encodeCbor } from '../src/index.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const fromHex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'));

describe('deterministic CBOR encoder', () => {
  // RFC 8949 appendix A examples (the preferred serialisations).
  it.each([
    [0, '00'],
    [23, '17'],
    [24, '1818'],
    [100, '1864'],
    [1000, '1903e8'],
    [1000000, '1a000f4240'],
    [1000000000000, '1b000000e8d4a51000'],
    [-1, '20'],
    [-100, '3863'],
    [-1000, '3903e7'],
    [18446744073709551615n, '1bffffffffffffffff'],
    [-18446744073709551616n, '3bffffffffffffffff'],
    [1.5, 'f93e00'],
    [100000.0, '1a000186a0'],
    [(2 - 2 ** -23) * 2 ** 127, 'fa7f7fffff'],
    [1.1, 'fb3ff199999999999a'],
    [2 ** -24, 'f90001'],
    [Number.POSITIVE_INFINITY, 'f97c00'],
    [Number.NaN, 'f97e00'],
    [false, 'f4'],
    [true, 'f5'],
    [null, 'f6'],
    ['', '60'],
    ['IETF', '6449455446'],
    ['\u00fc', '62c3bc'],
    ['\ud800\udd51', '64f0908591'],
    [[1, [2, 3], [4, 5]], '8301820203820405'],
    [{ a: 1, b: [2, 3] }, 'a26161016162820203'],
    [new CborTag(1, 1363896240), 'c11a514b67b0'],
  ] as [CborValue, string][])('encodes %o as %s', (value, expected) => {
    expect(hex(encodeCbor(value))).toBe(expected);
  });

  it('encodes byte strings without tag 64 and maps without tag 259', () => {
    expect(hex(encodeCbor(new Uint8Array([1, 2, 3, 4])))).toBe('4401020304');
    expect(hex(encodeCbor(new Map([[1, 2]])))).toBe('a10102');
  });

  it('sorts map keys by their encoded bytes (RFC 8949 §4.2.1): 1, 4, 6, -260', () => {
    const claims = new Map<CborValue, CborValue>([
      [-260, 'h'],
      [6, 'iat'],
      [1, 'iss'],
      [4, 'exp'],
    ]);
    expect(hex(encodeCbor(claims))).toBe('a40163697373046365787006636961743901036168');
  });

  it('refuses undefined (EU-DCC rule I-CO5) and duplicate keys', () => {
    expect(() => encodeCbor([undefined as unknown as CborValue])).toThrow(CborError);
    expect(() =>
      encodeCbor(
        new Map<CborValue, CborValue>([
          [1, 1],
          [1n, 2],
        ]),
      ),
    ).toThrow(/equal keys/);
  });

  it('produces the canonical encoding node-cbor produces; node-cbor and our decoder read it back', () => {
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.integer(),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.string(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(fc.string({ maxLength: 6 }), tie('value'), { maxKeys: 4, noNullPrototype: true }),
      ),
    })).value;
    fc.assert(
      fc.property(json, (value) => {
        const ours = encodeCbor(value as CborValue);
        expect(hex(ours)).toBe(hex(nodeCbor.encodeCanonical(value)));
        expect(nodeCbor.decodeFirstSync(Buffer.from(ours))).toEqual(value);
        expect(cborToJson(decodeCbor(ours))).toEqual(value);
      }),
    );
  });
});

describe('strict CBOR decoder', () => {
  it('round-trips what the encoder writes', () => {
    const value = new Map<CborValue, CborValue>([
      [1, 'IN'],
      [-260, new Map<CborValue, CborValue>([[1, { ver: '1.3.0', v: [{ dn: 1, sd: 2 }] }]])],
      [4, new Uint8Array([9, 8, 7])],
    ]);
    const decoded = decodeCbor(encodeCbor(value)) as Map<CborValue, CborValue>;
    expect(decoded.get(1)).toBe('IN');
    expect(decoded.get(4)).toEqual(new Uint8Array([9, 8, 7]));
    expect(cborToJson((decoded.get(-260) as Map<CborValue, CborValue>).get(1) as CborValue)).toEqual({
      ver: '1.3.0',
      v: [{ dn: 1, sd: 2 }],
    });
  });

  it('reads indefinite lengths, half floats and tags', () => {
    expect(decodeCbor(fromHex('9f018202039f0405ffff'))).toEqual([1, [2, 3], [4, 5]]);
    expect(decodeCbor(fromHex('7f657374726561646d696e67ff'))).toBe('streaming');
    expect(decodeCbor(fromHex('f93c00'))).toBe(1);
    expect(decodeCbor(fromHex('f9c400'))).toBe(-4);
    expect(decodeCbor(fromHex('d8184401020304'))).toEqual(new CborTag(24, new Uint8Array([1, 2, 3, 4])));
  });

  it.each([
    ['', 'empty input'],
    ['1a0000', 'truncated argument'],
    ['5a00010000', 'length beyond the input'],
    ['a2010201', 'truncated map'],
    ['a201020103', 'duplicate keys'],
    ['62c328', 'invalid UTF-8'],
    ['ff', 'stray break'],
    ['f7', 'undefined'],
    ['1c', 'reserved additional information'],
    ['0000', 'trailing bytes'],
    ['9f'.repeat(100), 'nesting depth'],
  ])('rejects %s (%s)', (input) => {
    expect(() => decodeCbor(fromHex(input))).toThrow(CborError);
  });

  it('never throws anything but CborError on random input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          decodeCbor(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(CborError);
        }
      }),
    );
  });
});
