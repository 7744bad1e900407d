import { constants, hash, type KeyObject, privateEncrypt } from 'node:crypto';

/**
 * RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt (PS256, RFC 8017 §8.1), with the salt
 * derived from the key and the message (HMAC) instead of drawn at random. Any PS256 verifier accepts
 * it, and signing becomes deterministic: the same credential, clock and key give the same bytes.
 */
const HASH_LENGTH = 32;
const SALT_LENGTH = 32;
const HMAC_BLOCK = 64;

// One-shot crypto.hash: a third of createHash's cost per call, and PSS hashes eleven times per signature.
// It returns a Buffer for 'buffer' (its typings only list the text encodings).
const sha256 = (data: Uint8Array): Buffer => hash('sha256', data, 'buffer') as unknown as Buffer;

/**
 * Per key: the sizes, and scratch buffers laid out so every hash input is written in place. HMAC is
 * computed from its definition (H(K⊕opad ‖ H(K⊕ipad ‖ m))) with the padded keys prepared once. Reusing
 * the buffers is safe: signing is synchronous, and privateEncrypt copies its input.
 */
interface KeyFacts {
  emBits: number;
  /** Where the masked DB starts in `encoded` (after the leading zero byte of a modulus of 8n+1 bits). */
  dbStart: number;
  dbLength: number;
  hmacInner: Buffer; // K⊕ipad ‖ mHash
  hmacOuter: Buffer; // K⊕opad ‖ inner digest
  mPrime: Buffer; // 8 zero bytes ‖ mHash ‖ salt
  mgfInput: Buffer; // H ‖ 32-bit counter
  encoded: Buffer; // the encoded message, as long as the modulus
}
const keyFacts = new WeakMap<KeyObject, KeyFacts>();

const paddedKey = (secret: Buffer, pad: number, messageLength: number): Buffer => {
  const block = Buffer.alloc(HMAC_BLOCK + messageLength, 0);
  for (let i = 0; i < HMAC_BLOCK; i++) block[i] = (secret[i] ?? 0) ^ pad;
  return block;
};

const factsOf = (key: KeyObject): KeyFacts => {
  let facts = keyFacts.get(key);
  if (facts === undefined) {
    const modulusBits = key.asymmetricKeyDetails?.modulusLength;
    if (modulusBits === undefined) throw new Error('PS256 needs an RSA private key');
    const der = key.export({ type: 'pkcs8', format: 'der' });
    const saltSecret = sha256(Buffer.concat([Buffer.from('divoc-ts PS256 salt'), der]));
    const emBits = modulusBits - 1;
    const emLength = Math.ceil(emBits / 8);
    const modulusBytes = Math.ceil(modulusBits / 8);
    facts = {
      emBits,
      dbStart: modulusBytes - emLength,
      dbLength: emLength - HASH_LENGTH - 1,
      hmacInner: paddedKey(saltSecret, 0x36, HASH_LENGTH),
      hmacOuter: paddedKey(saltSecret, 0x5c, HASH_LENGTH),
      mPrime: Buffer.alloc(8 + HASH_LENGTH + SALT_LENGTH),
      mgfInput: Buffer.alloc(HASH_LENGTH + 4),
      encoded: Buffer.alloc(modulusBytes),
    };
    keyFacts.set(key, facts);
  }
  return facts;
};

export const signPs256Deterministic = (message: Uint8Array, key: KeyObject): Buffer => {
  const { emBits, dbStart, dbLength, hmacInner, hmacOuter, mPrime, mgfInput, encoded } = factsOf(key);
  const messageHash = sha256(message);
  messageHash.copy(hmacInner, HMAC_BLOCK);
  sha256(hmacInner).copy(hmacOuter, HMAC_BLOCK);
  const salt = sha256(hmacOuter); // HMAC-SHA-256 is exactly SALT_LENGTH bytes
  messageHash.copy(mPrime, 8);
  salt.copy(mPrime, 8 + HASH_LENGTH);
  const h = sha256(mPrime);

  // DB = zero padding ‖ 0x01 ‖ salt, masked with MGF1(H) in place.
  encoded.fill(0);
  encoded[dbStart + dbLength - SALT_LENGTH - 1] = 0x01;
  salt.copy(encoded, dbStart + dbLength - SALT_LENGTH);
  h.copy(mgfInput);
  for (let offset = 0, counter = 0; offset < dbLength; offset += HASH_LENGTH, counter++) {
    mgfInput.writeUInt32BE(counter, HASH_LENGTH);
    const mask = sha256(mgfInput);
    const end = Math.min(HASH_LENGTH, dbLength - offset);
    for (let i = 0; i < end; i++)
      encoded[dbStart + offset + i] = (encoded[dbStart + offset + i] as number) ^ (mask[i] as number);
  }
  encoded[dbStart] = (encoded[dbStart] as number) & (0xff >> (8 * (encoded.length - dbStart) - emBits));
  h.copy(encoded, dbStart + dbLength);
  encoded[encoded.length - 1] = 0xbc;
  return privateEncrypt({ key, padding: constants.RSA_NO_PADDING }, encoded);
};
