import { constants, type KeyObject, sign, verify } from 'node:crypto';
import { type CborError, CborTag, type CborValue, decodeCbor, encodeCbor } from './cbor.js';

/**
 * COSE_Sign1 (RFC 9052 §4.2) as EU-DCC uses it, on node:crypto: ES256 (−7, P-256, raw r‖s signature) as
 * the primary algorithm and PS256 (−37, RSASSA-PSS with SHA-256, MGF1-SHA-256, 32-byte salt) as the
 * secondary one. `cose-js` checks this code in tests.
 */
export type CoseAlgorithm = 'ES256' | 'PS256';

export const COSE_ALGORITHM_IDS: Record<CoseAlgorithm, number> = { ES256: -7, PS256: -37 };

/** Header labels (RFC 9052 §3.1). */
export const HEADER_ALG = 1;
export const HEADER_KID = 4;

/** CBOR tags: COSE_Sign1 (18) and CWT (61, which verifiers must accept around tag 18). */
export const TAG_COSE_SIGN1 = 18;
export const TAG_CWT = 61;

export const algorithmName = (id: unknown): CoseAlgorithm | undefined =>
  id === -7 ? 'ES256' : id === -37 ? 'PS256' : undefined;

/** The bytes that are signed: `["Signature1", protected, h'' (external AAD), payload]`. */
export const sigStructure = (protectedBytes: Uint8Array, payload: Uint8Array): Uint8Array =>
  encodeCbor(['Signature1', protectedBytes, new Uint8Array(0), payload]);

const signatureOptions = (algorithm: CoseAlgorithm, key: KeyObject) =>
  algorithm === 'ES256'
    ? { key, dsaEncoding: 'ieee-p1363' as const }
    : { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };

/** Throws unless `key` (private or public) is of the type `algorithm` needs. */
export const checkKeyType = (algorithm: CoseAlgorithm, key: KeyObject): void => {
  if (algorithm === 'ES256') {
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new TypeError('ES256 needs an EC key on P-256 (prime256v1)');
    }
  } else if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'rsa-pss') {
    throw new TypeError('PS256 needs an RSA key');
  } else if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    throw new TypeError('PS256 needs an RSA key of at least 2048 bits');
  }
};

export interface Sign1Input {
  algorithm: CoseAlgorithm;
  /** Key identifier placed in the protected header (EU-DCC: 8 bytes). */
  kid: Uint8Array;
  payload: Uint8Array;
  privateKey: KeyObject;
}

/** A tagged (18) COSE_Sign1 with protected header `{1: alg, 4: kid}` and an empty unprotected header. */
export const signSign1 = ({ algorithm, kid, payload, privateKey }: Sign1Input): Uint8Array => {
  checkKeyType(algorithm, privateKey);
  const protectedBytes = encodeCbor(
    new Map<CborValue, CborValue>([
      [HEADER_ALG, COSE_ALGORITHM_IDS[algorithm]],
      [HEADER_KID, kid],
    ]),
  );
  const signature = sign('sha256', sigStructure(protectedBytes, payload), signatureOptions(algorithm, privateKey));
  return encodeCbor(new CborTag(TAG_COSE_SIGN1, [protectedBytes, new Map(), payload, signature]));
};

export interface Sign1Message {
  protectedBytes: Uint8Array;
  protectedHeader: ReadonlyMap<CborValue, CborValue>;
  unprotectedHeader: ReadonlyMap<CborValue, CborValue>;
  payload: Uint8Array;
  signature: Uint8Array;
  /** The tags found around the array, outermost first (e.g. `[61, 18]`). */
  tags: number[];
}

export class CoseFormatError extends Error {
  override readonly name = 'CoseFormatError';
}

const asMap = (value: CborValue, what: string): ReadonlyMap<CborValue, CborValue> => {
  if (!(value instanceof Map)) throw new CoseFormatError(`${what} is not a map`);
  return value;
};

const asBytes = (value: CborValue | undefined, what: string): Uint8Array => {
  if (!(value instanceof Uint8Array)) throw new CoseFormatError(`${what} is not a byte string`);
  return value;
};

/**
 * Parses a COSE_Sign1: tag 18, tag 61 around tag 18 (vector CO28), or untagged. Other tags are refused.
 * An empty protected header (zero-length bstr) is allowed, as RFC 9052 says.
 */
export const parseSign1 = (bytes: Uint8Array): Sign1Message => {
  let item: CborValue;
  try {
    item = decodeCbor(bytes);
  } catch (error) {
    throw new CoseFormatError(`not CBOR: ${(error as Error).message}`, { cause: error });
  }
  const tags: number[] = [];
  while (item instanceof CborTag) {
    tags.push(item.tag);
    item = item.value;
  }
  const tagsOk =
    tags.length === 0 ||
    (tags.length === 1 && tags[0] === TAG_COSE_SIGN1) ||
    (tags.length === 2 && tags[0] === TAG_CWT && tags[1] === TAG_COSE_SIGN1);
  if (!tagsOk) throw new CoseFormatError(`unexpected CBOR tags [${tags.join(', ')}]; expected 18 (or 61, 18)`);
  if (!Array.isArray(item) || item.length !== 4) throw new CoseFormatError('COSE_Sign1 must be an array of 4 items');
  const [protectedItem, unprotectedItem, payloadItem, signatureItem] = item as readonly CborValue[];
  const protectedBytes = asBytes(protectedItem, 'the protected header');
  let protectedHeader: ReadonlyMap<CborValue, CborValue> = new Map();
  if (protectedBytes.length > 0) {
    try {
      protectedHeader = asMap(decodeCbor(protectedBytes), 'the protected header');
    } catch (error) {
      if (error instanceof CoseFormatError) throw error;
      throw new CoseFormatError(`the protected header is not CBOR: ${(error as CborError).message}`, { cause: error });
    }
  }
  return {
    protectedBytes,
    protectedHeader,
    unprotectedHeader: asMap(unprotectedItem as CborValue, 'the unprotected header'),
    payload: asBytes(payloadItem, 'the payload'),
    signature: asBytes(signatureItem, 'the signature'),
    tags,
  };
};

/**
 * A header parameter: the protected value when present, else the unprotected one. A wrong protected value
 * is never rescued by a right unprotected one (vector CO22 for the kid).
 */
const headerValue = (message: Sign1Message, label: number): CborValue | undefined =>
  message.protectedHeader.has(label) ? message.protectedHeader.get(label) : message.unprotectedHeader.get(label);

/**
 * The algorithm, by the same precedence as the kid. An unprotected `alg` cannot be swapped for another
 * usefully: the key type of the DSC must still match it (`verifySign1`), and ES256/PS256 are the only ones.
 */
export const messageAlgorithm = (message: Sign1Message): CoseAlgorithm | undefined =>
  algorithmName(headerValue(message, HEADER_ALG));

/** The key identifier: the protected one when present, else the unprotected one (hcert spec, vectors CO18–CO23). */
export const messageKid = (message: Sign1Message): Uint8Array | undefined => {
  const kid = headerValue(message, HEADER_KID);
  return kid instanceof Uint8Array ? kid : undefined;
};

/** True when `publicKey` verifies the signature with `algorithm`; false for a wrong key type or size. */
export const verifySign1 = (message: Sign1Message, algorithm: CoseAlgorithm, publicKey: KeyObject): boolean => {
  try {
    checkKeyType(algorithm, publicKey);
  } catch {
    return false;
  }
  if (algorithm === 'ES256' && message.signature.length !== 64) return false;
  return verify(
    'sha256',
    sigStructure(message.protectedBytes, message.payload),
    signatureOptions(algorithm, publicKey),
    message.signature,
  );
};
