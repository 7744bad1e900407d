import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  generateSigningKey,
  type KeyType,
  type PublicKey,
  privateKeyPem,
  publicKeyFromPem,
  publicKeyPem,
  type SigningKey,
  signingKeyFromPem,
} from './keys.js';

/** A problem with a key directory, phrased for the person who has to fix it. */
export class KeyDirectoryError extends Error {}

/**
 * A key directory holds `private.pem` (the signing key, mode 0600) and any number of public keys
 * (`public.pem`, plus e.g. `2024-public.pem` for rotated-out keys that must keep verifying).
 */
export const writeKeyDirectory = (dir: string, key: SigningKey): void => {
  mkdirSync(dir, { recursive: true });
  const privatePath = join(dir, 'private.pem');
  if (existsSync(privatePath))
    throw new KeyDirectoryError(`${privatePath} already exists; refusing to overwrite a signing key`);
  writeFileSync(privatePath, privateKeyPem(key), { mode: 0o600 });
  chmodSync(privatePath, 0o600);
  writeFileSync(join(dir, 'public.pem'), publicKeyPem(key));
  writeFileSync(join(dir, 'key.json'), `${JSON.stringify({ type: key.type, keyId: key.keyId }, null, 2)}\n`);
};

const pemFiles = (dir: string): string[] => {
  if (!existsSync(dir))
    throw new KeyDirectoryError(`${dir}: no such key directory (create one with: divoc keys generate --out ${dir})`);
  return readdirSync(dir)
    .filter((name) => name.endsWith('.pem'))
    .sort();
};

export const readSigningKey = (dir: string): SigningKey => {
  const path = join(dir, 'private.pem');
  if (!pemFiles(dir).includes('private.pem'))
    throw new KeyDirectoryError(`${path}: no such file (the directory has no signing key)`);
  try {
    return signingKeyFromPem(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new KeyDirectoryError(`${path}: not a usable private key (${(error as Error).message})`);
  }
};

/** Every public key in the directory (private keys contribute their public half). */
export const readPublicKeys = (dir: string): PublicKey[] =>
  pemFiles(dir).map((name) => {
    const text = readFileSync(join(dir, name), 'utf8');
    try {
      return text.includes('PRIVATE KEY') ? signingKeyFromPem(text) : publicKeyFromPem(text);
    } catch (error) {
      throw new KeyDirectoryError(`${join(dir, name)}: not a usable key (${(error as Error).message})`);
    }
  });

export const generateKeyDirectory = (dir: string, type: KeyType): SigningKey => {
  const key = generateSigningKey(type);
  writeKeyDirectory(dir, key);
  return key;
};

/** The development signing key of embedded mode and the CLI: created on first use. */
export const loadOrCreateSigningKey = (dir: string, type: KeyType): { key: SigningKey; created: boolean } =>
  existsSync(join(dir, 'private.pem'))
    ? { key: readSigningKey(dir), created: false }
    : { key: generateKeyDirectory(dir, type), created: true };
