import { describe, expect, it } from 'vitest';
import { isValidUvci, luhnMod38, makeUvci, UVCI_CHARSET } from '../src/index.js';

describe('UVCI with the Luhn mod N (N = 38) check character', () => {
  it('validates the published examples', () => {
    // The eHealth Network UVCI guidelines' example, and the one in dgc-testdata vectors CO1/CO3.
    expect(isValidUvci('URN:UVCI:01:NL:DADFCC47C7334E45A906DB12FD859FB7#1')).toBe(true);
    expect(isValidUvci('URN:UVCI:01:AT:10807843F94AEE0EE5093FBC254BD813#B')).toBe(true);
    expect(luhnMod38('URN:UVCI:01:NL:DADFCC47C7334E45A906DB12FD859FB7')).toBe('1');
  });

  it('does not validate the Bulgarian example, whose "#0" comes from a different (mod 36) scheme', () => {
    // Under the guidelines' algorithm the check character is "F"; "0" is what a mod 36 Luhn over
    // "01:BG:UFR5PLGKU8WDSZK7" gives — a national deviation, like the URN:UCI: prefixes seen in the wild.
    expect(isValidUvci('urn:uvci:01:BG:UFR5PLGKU8WDSZK7#0')).toBe(false);
    expect(luhnMod38('URN:UVCI:01:BG:UFR5PLGKU8WDSZK7')).toBe('F');
    expect(isValidUvci('urn:uvci:01:BG:UFR5PLGKU8WDSZK7#F')).toBe(true);
  });

  it('is case-insensitive and accepts a UVCI without check character', () => {
    expect(isValidUvci('urn:uvci:01:nl:dadfcc47c7334e45a906db12fd859fb7#1')).toBe(true);
    expect(isValidUvci('URN:UVCI:01:NL:DADFCC47C7334E45A906DB12FD859FB7')).toBe(true);
  });

  it('catches every single-character substitution in our UVCIs', () => {
    const uvci = makeUvci('IN', '06FSSQK3XWZ7KMHB33BR6');
    expect(uvci).toBe(`URN:UVCI:01:IN:06FSSQK3XWZ7KMHB33BR6#${luhnMod38('URN:UVCI:01:IN:06FSSQK3XWZ7KMHB33BR6')}`);
    expect(isValidUvci(uvci)).toBe(true);
    const opaqueStart = 'URN:UVCI:01:IN:'.length;
    for (let i = opaqueStart; i < uvci.indexOf('#'); i++) {
      for (const replacement of UVCI_CHARSET.slice(0, 36)) {
        if (replacement === uvci[i]) continue;
        const typo = uvci.slice(0, i) + replacement + uvci.slice(i + 1);
        expect(isValidUvci(typo), typo).toBe(false);
      }
    }
  });

  it('builds the opaque part from the certificate id (letters and digits only) and keeps within 80 characters', () => {
    expect(makeUvci('IN', 'ab-12 cd').startsWith('URN:UVCI:01:IN:AB12CD#')).toBe(true);
    expect(makeUvci('IN', '123', 'mohfw')).toMatch(/^URN:UVCI:01:IN:MOHFW\/123#.$/);
    expect(() => makeUvci('IND', '123')).toThrow(RangeError);
    expect(() => makeUvci('IN', '--')).toThrow(RangeError);
    expect(() => makeUvci('IN', 'X'.repeat(80))).toThrow(/80/);
    expect(isValidUvci('URN:UVCI:01:IN:A B#1')).toBe(false);
  });
});
