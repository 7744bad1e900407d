import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { base58Encode } from './base58.js';

/** `SIGNING_KEY_TYPE`: RSA (DIVOC's default, RsaSignature2018) or ED25519 (Ed25519Signature2020). */
export type KeyType = 'RSA' | 'ED25519';
export const KEY_TYPES: readonly KeyType[] = ['RSA', 'ED25519'];

/** A public key a verifier trusts, with the short id that proofs name it by. */
export interface PublicKey {
  type: KeyType;
  /** Short fingerprint of the public key; proofs reference `<issuer>#<keyId>` so keys can rotate. */
  keyId: string;
  key: KeyObject;
}

export interface SigningKey extends PublicKey {
  privateKey: KeyObject;
}

const typeOf = (key: KeyObject): KeyType => {
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') return 'RSA';
  if (key.asymmetricKeyType === 'ed25519') return 'ED25519';
  throw new Error(`unsupported key type "${key.asymmetricKeyType}": use an RSA (2048 bits or more) or Ed25519 key`);
};

/** The key id: base64url of the first 72 bits of SHA-256 over the SubjectPublicKeyInfo. */
export const keyIdOf = (publicKey: KeyObject): string =>
  createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest()
    .subarray(0, 9)
    .toString('base64url');

const checkStrength = (key: KeyObject): void => {
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (typeOf(key) === 'RSA' && (bits === undefined || bits < 2048)) {
    throw new Error(`RSA keys must have at least 2048 bits (this one has ${bits})`);
  }
};

export const publicKeyFromPem = (pem: string): PublicKey => {
  const key = createPublicKey(pem);
  checkStrength(key);
  return { type: typeOf(key), keyId: keyIdOf(key), key };
};

export const signingKeyFromPem = (privatePem: string): SigningKey => {
  const privateKey = createPrivateKey(privatePem);
  const key = createPublicKey(privateKey);
  checkStrength(key);
  return { type: typeOf(key), keyId: keyIdOf(key), key, privateKey };
};

export const generateSigningKey = (type: KeyType): SigningKey => {
  const pair = type === 'RSA' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519');
  return { type, keyId: keyIdOf(pair.publicKey), key: pair.publicKey, privateKey: pair.privateKey };
};

export const privateKeyPem = (key: SigningKey): string =>
  key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

export const publicKeyPem = (key: PublicKey): string => key.key.export({ type: 'spki', format: 'pem' }) as string;

/** Multibase (base58btc) multicodec ed25519-pub key, as `publicKeyMultibase` in Ed25519VerificationKey2020. */
export const ed25519Multibase = (key: PublicKey): string => {
  const raw = Buffer.from(key.key.export({ format: 'jwk' }).x as string, 'base64url');
  return `z${base58Encode(Buffer.concat([Buffer.from([0xed, 0x01]), raw]))}`;
};
