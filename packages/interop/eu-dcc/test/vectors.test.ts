import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixturePath, readJsonFixture } from '../../../../test-fixtures/index.js';
import {
  cborToJson,
  decodeCbor,
  decodeHc1Base45,
  dscKid,
  Hc1Error,
  inflateHcert,
  messageKid,
  parseHcertCose,
  readHcertContent,
  schemaIssues,
  trustDsc,
  unprefixHc1,
  verifyHc1,
  verifyHcertSignature,
} from '../src/index.js';

interface Vector {
  JSON?: unknown;
  CBOR?: string;
  COSE?: string;
  COMPRESSED?: string;
  BASE45?: string;
  PREFIX?: string;
  TESTCTX: { CERTIFICATE: string; VALIDATIONCLOCK: string; DESCRIPTION: string };
  EXPECTEDRESULTS: Record<string, boolean>;
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const names = readdirSync(fixturePath('eu-dcc', 'vectors')).filter((name) => name.endsWith('.json'));
const vectors = names.map(
  (name) => [name.replace('.json', ''), readJsonFixture<Vector>('eu-dcc', 'vectors', name)] as const,
);

/** Each stage run on its own, so every EXPECTED… flag that is present is asserted separately. */
const outcome = (run: () => unknown): boolean => {
  try {
    run();
    return true;
  } catch (error) {
    if (!(error instanceof Hc1Error)) throw error;
    return false;
  }
};

describe('dgc-testdata vectors through our decoder', () => {
  it('covers every vector in test-fixtures/public/eu-dcc/vectors', () => {
    expect(names.sort()).toEqual(['CO1.json', 'CO12.json', 'CO17.json', 'CO22.json', 'CO3.json', 'CO5.json']);
  });

  describe.each(vectors)('%s', (_name, vector) => {
    const expected = vector.EXPECTEDRESULTS;
    const clock = new Date(vector.TESTCTX.VALIDATIONCLOCK);
    const dsc = trustDsc(vector.TESTCTX.CERTIFICATE);
    const prefixed = vector.PREFIX as string;
    const base45 = () => unprefixHc1(prefixed);
    const compressed = () => decodeHc1Base45(base45());
    const cose = () => inflateHcert(compressed());
    const message = () => parseHcertCose(cose());

    it(`is described as "${vector.TESTCTX.DESCRIPTION}"`, () => {
      expect(Object.keys(expected).length).toBeGreaterThan(0);
    });

    it('matches every intermediate stage the vector carries', () => {
      if (vector.BASE45 !== undefined) expect(base45()).toBe(vector.BASE45);
      if (vector.COMPRESSED !== undefined) expect(hex(compressed())).toBe(vector.COMPRESSED.toLowerCase());
      if (vector.COSE !== undefined) expect(hex(cose())).toBe(vector.COSE.toLowerCase());
      // `CBOR` is the DCC payload alone (indefinite-length maps in these vectors): it must decode to the
      // same data as the payload inside the COSE message.
      if (vector.CBOR !== undefined) {
        const inside = readHcertContent(message().payload).payload;
        expect(cborToJson(decodeCbor(Buffer.from(vector.CBOR, 'hex')))).toEqual(inside);
      }
    });

    if (expected.EXPECTEDUNPREFIX !== undefined) {
      it(`unprefix: ${expected.EXPECTEDUNPREFIX}`, () => expect(outcome(base45)).toBe(expected.EXPECTEDUNPREFIX));
    }
    if (expected.EXPECTEDB45DECODE !== undefined) {
      it(`Base45 decode: ${expected.EXPECTEDB45DECODE}`, () =>
        expect(outcome(compressed)).toBe(expected.EXPECTEDB45DECODE));
    }
    if (expected.EXPECTEDCOMPRESSION !== undefined) {
      it(`inflate: ${expected.EXPECTEDCOMPRESSION}`, () => expect(outcome(cose)).toBe(expected.EXPECTEDCOMPRESSION));
    }
    if (expected.EXPECTEDDECODE !== undefined) {
      it(`COSE/CWT decode: ${expected.EXPECTEDDECODE}`, () =>
        expect(outcome(() => readHcertContent(message().payload))).toBe(expected.EXPECTEDDECODE));
    }
    if (expected.EXPECTEDVALIDJSON !== undefined) {
      it(`payload equals JSON: ${expected.EXPECTEDVALIDJSON}`, () => {
        const { payload } = readHcertContent(message().payload);
        expect(payload).toEqual(vector.JSON);
        expect(cborToJson(decodeCbor(Buffer.from(vector.CBOR as string, 'hex')))).toEqual(vector.JSON);
        expect(schemaIssues(payload)).toEqual([]);
      });
    }
    if (expected.EXPECTEDVERIFY !== undefined) {
      it(`signature verification: ${expected.EXPECTEDVERIFY}`, () => {
        expect(outcome(() => verifyHcertSignature(message(), [dsc]))).toBe(expected.EXPECTEDVERIFY);
      });
    }
    if (expected.EXPECTEDEXPIRATIONCHECK !== undefined) {
      it(`expiration check at ${vector.TESTCTX.VALIDATIONCLOCK}: ${expected.EXPECTEDEXPIRATIONCHECK}`, () => {
        const run = () => verifyHc1(prefixed, { trusted: [dsc], now: clock });
        expect(outcome(run)).toBe(expected.EXPECTEDEXPIRATIONCHECK);
        if (!expected.EXPECTEDEXPIRATIONCHECK) expect(run).toThrow(expect.objectContaining({ stage: 'EXPIRED' }));
      });
    }
    if (expected.EXPECTEDKEYUSAGE !== undefined) {
      it(`key usage: ${expected.EXPECTEDKEYUSAGE}`, () => {
        const run = () => verifyHc1(prefixed, { trusted: [dsc], now: clock });
        expect(outcome(run)).toBe(expected.EXPECTEDKEYUSAGE);
      });
    }
  });

  it('CO22 fails on the protected kid even though the unprotected kid names the right DSC', () => {
    const vector = readJsonFixture<Vector>('eu-dcc', 'vectors', 'CO22.json');
    const dsc = trustDsc(vector.TESTCTX.CERTIFICATE);
    const message = parseHcertCose(inflateHcert(decodeHc1Base45(unprefixHc1(vector.PREFIX as string))));
    expect(Buffer.from(messageKid(message) as Uint8Array).toString()).toBe('foo');
    expect(message.unprotectedHeader.get(4)).toEqual(dscKid(dsc.certificate.raw));
    expect(() => verifyHcertSignature(message, [dsc])).toThrow(expect.objectContaining({ stage: 'KID' }));
  });

  it('CO12: a test certificate from a DSC whose extended key usage allows tests only', () => {
    const vector = readJsonFixture<Vector>('eu-dcc', 'vectors', 'CO12.json');
    const dsc = trustDsc(vector.TESTCTX.CERTIFICATE);
    expect(dsc.allowedTypes).toEqual(new Set(['t']));
    const result = verifyHc1(vector.PREFIX as string, {
      trusted: [dsc],
      now: new Date(vector.TESTCTX.VALIDATIONCLOCK),
    });
    expect(result.type).toBe('t');
  });

  it('CO1 (PS256) and CO3 (ES256) verify end to end, and a DSC with another kid is not tried', () => {
    for (const [name, algorithm] of [
      ['CO1', 'PS256'],
      ['CO3', 'ES256'],
    ] as const) {
      const vector = readJsonFixture<Vector>('eu-dcc', 'vectors', `${name}.json`);
      const now = new Date(vector.TESTCTX.VALIDATIONCLOCK);
      const result = verifyHc1(vector.PREFIX as string, { trusted: [trustDsc(vector.TESTCTX.CERTIFICATE)], now });
      expect(result.algorithm).toBe(algorithm);
      expect(result.payload).toEqual(vector.JSON);
      expect(result.claims.iss).toBe('AT');
      const other = readJsonFixture<Vector>('eu-dcc', 'vectors', name === 'CO1' ? 'CO3.json' : 'CO1.json');
      expect(() => verifyHc1(vector.PREFIX as string, { trusted: [trustDsc(other.TESTCTX.CERTIFICATE)], now })).toThrow(
        expect.objectContaining({ stage: 'KID_UNKNOWN' }),
      );
    }
  });
});
