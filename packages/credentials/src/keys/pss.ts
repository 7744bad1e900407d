import { constants, createHash, createHmac, type KeyObject, privateEncrypt } from 'node:crypto';

/**
 * RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt (PS256, RFC 8017 §8.1), with the salt
 * derived from the key and the message (HMAC) instead of drawn at random. Any PS256 verifier accepts
 * it, and signing becomes deterministic: the same credential, clock and key give the same bytes.
 */
const HASH_LENGTH = 32;
const SALT_LENGTH = 32;

const sha256 = (...parts: Uint8Array[]): Buffer => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
};

const mgf1 = (seed: Buffer, length: number): Buffer => {
  const out = Buffer.alloc(length);
  const counter = Buffer.alloc(4);
  for (let offset = 0, i = 0; offset < length; offset += HASH_LENGTH, i++) {
    counter.writeUInt32BE(i);
    sha256(seed, counter).copy(out, offset);
  }
  return out;
};

const saltSecrets = new WeakMap<KeyObject, Buffer>();
const saltSecretOf = (key: KeyObject): Buffer => {
  let secret = saltSecrets.get(key);
  if (secret === undefined) {
    secret = sha256(Buffer.from('divoc-ts PS256 salt'), key.export({ type: 'pkcs8', format: 'der' }));
    saltSecrets.set(key, secret);
  }
  return secret;
};

export const signPs256Deterministic = (message: Uint8Array, key: KeyObject): Buffer => {
  const modulusBits = key.asymmetricKeyDetails?.modulusLength;
  if (modulusBits === undefined) throw new Error('PS256 needs an RSA private key');
  const emBits = modulusBits - 1;
  const emLength = Math.ceil(emBits / 8);
  const messageHash = sha256(message);
  const salt = createHmac('sha256', saltSecretOf(key)).update(messageHash).digest().subarray(0, SALT_LENGTH);
  const h = sha256(Buffer.alloc(8), messageHash, salt);

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
