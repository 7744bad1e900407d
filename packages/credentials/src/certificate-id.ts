import { randomBytes } from 'node:crypto';

/**
 * Certificate ids are printed on paper and typed back in by people, so they are short, use
 * Crockford's base32 alphabet (no I, L, O, U) and end in a Luhn mod 32 check character (catches
 * every single-character typo and most swaps). They combine the issuing second (35 bits) with
 * 64 random bits: unguessable, and unique unless one second yields two equal 64-bit draws — which
 * the database's primary key turns into a retry, never a duplicate.
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const BASE = ALPHABET.length;
const EPOCH_SECONDS = Date.UTC(2020, 0, 1) / 1000;
const BODY_LENGTH = 20;

const encode = (value: bigint, length: number): string => {
  let out = '';
  for (let i = 0; i < length; i++) {
    out = ALPHABET[Number(value & 31n)] + out;
    value >>= 5n;
  }
  return out;
};

/** Luhn mod N (N = 32) over the code points of the body. */
const checkCharacter = (body: string): string => {
  let factor = 2;
  let sum = 0;
  for (let i = body.length - 1; i >= 0; i--) {
    let addend = factor * ALPHABET.indexOf(body[i] as string);
    factor = factor === 2 ? 1 : 2;
    addend = Math.floor(addend / BASE) + (addend % BASE);
    sum += addend;
  }
  return ALPHABET[(BASE - (sum % BASE)) % BASE] as string;
};

// Random bits are drawn 4 KB at a time: one randomBytes call per id cost the signer more than
// building the id (each call enters OpenSSL and the kernel's entropy source).
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let poolOffset = 0;
const random64 = (): bigint => {
  if (poolOffset + 8 > pool.length) {
    pool = randomBytes(POOL_BYTES);
    poolOffset = 0;
  }
  const value = pool.readBigUInt64BE(poolOffset);
  poolOffset += 8;
  return value;
};

/** A new certificate id: 7 time characters, 13 random characters, 1 check character (21 in all). */
export const newCertificateId = (now: Date = new Date()): string => {
  const seconds = BigInt(Math.max(0, Math.floor(now.getTime() / 1000) - EPOCH_SECONDS));
  const random = random64();
  const body = encode(seconds, 7) + encode(random, 13);
  return body + checkCharacter(body);
};

/** Reads an id as a person typed it: any case, dashes or spaces, I/L for 1 and O for 0. */
export const normaliseCertificateId = (typed: string): string =>
  typed.toUpperCase().replace(/[-\s]/g, '').replace(/[IL]/g, '1').replace(/O/g, '0');

/** True when `id` is well formed and its check character matches. */
export const isValidCertificateId = (id: string): boolean => {
  const normalised = normaliseCertificateId(id);
  if (normalised.length !== BODY_LENGTH + 1 || [...normalised].some((char) => !ALPHABET.includes(char))) return false;
  return checkCharacter(normalised.slice(0, BODY_LENGTH)) === normalised.slice(BODY_LENGTH);
};
