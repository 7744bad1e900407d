import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOrCreateSigningKey, readPublicKeys } from './key-directory.js';
import { type KeyType, type PublicKey, publicKeyFromPem, type SigningKey, signingKeyFromPem } from './keys.js';

/** A key setting that cannot be used; the message names the variable to fix. */
export class KeyConfigurationError extends Error {}

export interface SigningKeySettings {
  /** CERTIFICATE_PRIVATE_KEY (PEM), from a Kubernetes Secret. */
  pem?: string | undefined;
  /** CERTIFICATE_PRIVATE_KEY_FILE, a mounted Secret. */
  file?: string | undefined;
  /** SIGNING_KEY_TYPE: the key must be of this type. */
  type: KeyType;
  /** Embedded mode only: a development key is kept (and created on first use) here. */
  developmentDirectory?: string | undefined;
}

/**
 * The signing key of a deployment: from the PEM or the file; in embedded mode from the development
 * directory. Its type must match SIGNING_KEY_TYPE, so a misconfigured deployment stops at start
 * instead of issuing certificates with the wrong suite.
 */
export const configuredSigningKey = ({ pem, file, type, developmentDirectory }: SigningKeySettings): SigningKey => {
  let key: SigningKey;
  try {
    if (pem) key = signingKeyFromPem(pem);
    else if (file) key = signingKeyFromPem(readFileSync(file, 'utf8'));
    else if (developmentDirectory) key = loadOrCreateSigningKey(join(developmentDirectory, 'keys'), type).key;
    else throw new Error('is required outside embedded mode (or CERTIFICATE_PRIVATE_KEY_FILE)');
  } catch (error) {
    throw new KeyConfigurationError(`CERTIFICATE_PRIVATE_KEY ${(error as Error).message}`);
  }
  if (key.type !== type)
    throw new KeyConfigurationError(`SIGNING_KEY_TYPE is ${type} but the signing key is ${key.type}`);
  return key;
};

const PEM_BLOCK = /-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g;

/**
 * The keys whose signatures verify: CERTIFICATE_PUBLIC_KEY (one or more PEM blocks: the current key
 * and rotated-out ones); in embedded mode the public keys of the development directory.
 */
export const configuredPublicKeys = ({
  pem,
  developmentDirectory,
}: {
  pem?: string | undefined;
  developmentDirectory?: string | undefined;
}): PublicKey[] => {
  try {
    if (pem) {
      const blocks = pem.match(PEM_BLOCK) ?? [];
      if (blocks.length === 0) throw new Error('holds no PEM public key');
      return blocks.map(publicKeyFromPem);
    }
    if (developmentDirectory) return readPublicKeys(join(developmentDirectory, 'keys'));
    throw new Error('is required outside embedded mode');
  } catch (error) {
    throw new KeyConfigurationError(`CERTIFICATE_PUBLIC_KEY ${(error as Error).message}`);
  }
};
