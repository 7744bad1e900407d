import { constants, createHmac, hash, type KeyObject, privateEncrypt } from 'node:crypto';

/**
 * RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt (PS256, RFC 8017 §8.1), with the salt
 * derived from the key and the message (HMAC) instead of drawn at random. Any PS256 verifier accepts
 * it, and signing becomes deterministic: the same credential, clock and key give the same bytes.
 */
const HASH_LENGTH = 32;
const SALT_LENGTH = 32;

// One-shot crypto.hash: a third of createHash's cost per call, and PSS hashes nine times per signature.
// It returns a Buffer for 'buffer' (its typings only list the text encodings).
const sha256 = (data: Uint8Array): Buffer => hash('sha256', data, 'buffer') as unknown as Buffer;

const mgf1 = (seed: Buffer, length: number): Buffer => {
  const out = Buffer.alloc(length);
  const input = Buffer.alloc(seed.length + 4); // seed ‖ 32-bit counter
  seed.copy(input);
  for (let offset = 0, i = 0; offset < length; offset += HASH_LENGTH, i++) {
    input.writeUInt32BE(i, seed.length);
    sha256(input).copy(out, offset);
  }
  return out;
};

interface KeyFacts {
  modulusBits: number;
  saltSecret: Buffer;
}
const keyFacts = new WeakMap<KeyObject, KeyFacts>();
const factsOf = (key: KeyObject): KeyFacts => {
  let facts = keyFacts.get(key);
  if (facts === undefined) {
    const modulusBits = key.asymmetricKeyDetails?.modulusLength;
    if (modulusBits === undefined) throw new Error('PS256 needs an RSA private key');
    const der = key.export({ type: 'pkcs8', format: 'der' });
    facts = { modulusBits, saltSecret: sha256(Buffer.concat([Buffer.from('divoc-ts PS256 salt'), der])) };
    keyFacts.set(key, facts);
  }
  return facts;
};

export const signPs256Deterministic = (message: Uint8Array, key: KeyObject): Buffer => {
  const { modulusBits, saltSecret } = factsOf(key);
  const emBits = modulusBits - 1;
  const emLength = Math.ceil(emBits / 8);
  const messageHash = sha256(message);
  const salt = createHmac('sha256', saltSecret).update(messageHash).digest().subarray(0, SALT_LENGTH);
  const h = sha256(Buffer.concat([Buffer.alloc(8), messageHash, salt]));

  const db = Buffer.alloc(emLength - HASH_LENGTH - 1);
  db[db.length - SALT_LENGTH - 1] = 0x01;
  salt.copy(db, db.length - SALT_LENGTH);
  const mask = mgf1(h, db.length);
  for (let i = 0; i < db.length; i++) db[i] = (db[i] as number) ^ (mask[i] as number);
  db[0] = (db[0] as number) & (0xff >> (8 * emLength - emBits));

  const modulusBytes = Math.ceil(modulusBits / 8);
  const encoded = Buffer.concat([Buffer.alloc(modulusBytes - emLength), db, h, Buffer.from([0xbc])]);
  return privateEncrypt({ key, padding: constants.RSA_NO_PADDING }, encoded);
};
