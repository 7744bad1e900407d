/**
 * Unique Vaccination Certificate Identifiers (eHealth Network UVCI guidelines, annex 2):
 * `URN:UVCI:01:<CC>:<opaque>#<check>`, compared case-insensitively, at most 80 characters. The check
 * character is Luhn mod N over the code-point set `A–Z 0–9 / :` (N = 38), computed on the whole string
 * before `#` — the same algorithm as the reference implementation in eu-dcc-schema.
 */
export const UVCI_CHARSET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/:';
const N = UVCI_CHARSET.length;

export const UVCI_PREFIX = 'URN:UVCI:01:';
export const UVCI_MAX_LENGTH = 80;

/** The Luhn mod 38 check character of `text` (upper-cased; characters outside the set are skipped, as in the reference). */
export const luhnMod38 = (text: string): string => {
  let factor = 2;
  let sum = 0;
  const upper = text.toUpperCase();
  for (let i = upper.length - 1; i >= 0; i--) {
    const codePoint = UVCI_CHARSET.indexOf(upper[i] as string);
    if (codePoint < 0) continue;
    let addend = factor * codePoint;
    factor = factor === 2 ? 1 : 2;
    addend = Math.floor(addend / N) + (addend % N);
    sum += addend;
  }
  return UVCI_CHARSET[(N - (sum % N)) % N] as string;
};

/** The opaque part made from a certificate id: upper case, letters and digits only. */
export const uvciOpaque = (certificateId: string): string => certificateId.toUpperCase().replace(/[^A-Z0-9]/g, '');

/**
 * A UVCI for one of our certificates: `URN:UVCI:01:<country>:<opaque>#<check>`. `issuer` adds the optional
 * issuing-entity block (`<country>:<issuer>/<opaque>`, format 2 of the guidelines).
 */
export const makeUvci = (country: string, certificateId: string, issuer?: string): string => {
  if (!/^[A-Z]{2}$/.test(country))
    throw new RangeError(`the UVCI country must be ISO 3166-1 alpha-2, got "${country}"`);
  const opaque = uvciOpaque(certificateId);
  if (opaque.length === 0)
    throw new RangeError(`certificate id "${certificateId}" has no letters or digits for a UVCI`);
  const block = issuer === undefined ? opaque : `${uvciOpaque(issuer)}/${opaque}`;
  const body = `${UVCI_PREFIX}${country}:${block}`;
  const uvci = `${body}#${luhnMod38(body)}`;
  if (uvci.length > UVCI_MAX_LENGTH) {
    throw new RangeError(`the UVCI would be ${uvci.length} characters; the DCC schema allows ${UVCI_MAX_LENGTH}`);
  }
  return uvci;
};

const SHAPE = /^URN:UVCI:01:[A-Z]{2}:[A-Z0-9]+(?:\/[A-Z0-9]+){0,2}(?:#[A-Z0-9/:])?$/;

/**
 * True when `uvci` is well formed and, if it carries `#<check>`, the check character matches. Case is
 * ignored, as the guidelines ask.
 */
export const isValidUvci = (uvci: string): boolean => {
  const upper = uvci.toUpperCase();
  if (upper.length > UVCI_MAX_LENGTH || !SHAPE.test(upper)) return false;
  const hash = upper.indexOf('#');
  return hash < 0 || luhnMod38(upper.slice(0, hash)) === upper.slice(hash + 1);
};
