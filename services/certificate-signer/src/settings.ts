import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { IssuerEnv, loadOrCreateSigningKey, type SigningKey, signingKeyFromPem } from '@divoc/credentials';
import { EnvironmentError, envPort, InfrastructureEnv } from '@divoc/platform';
import { z } from 'zod';

export const SignerEnv = InfrastructureEnv.extend(IssuerEnv.shape).extend({
  PORT: envPort(8001),
  /** PEM of the signing key (from a Kubernetes Secret), or… */
  CERTIFICATE_PRIVATE_KEY: z.string().optional(),
  /** …a file holding it (a mounted Secret). */
  CERTIFICATE_PRIVATE_KEY_FILE: z.string().optional(),
  /** Partitions of `certify` signed at the same time. */
  SIGNER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
});
export type SignerEnv = z.infer<typeof SignerEnv>;

type KeySettings = Pick<
  SignerEnv,
  | 'CERTIFICATE_PRIVATE_KEY'
  | 'CERTIFICATE_PRIVATE_KEY_FILE'
  | 'SIGNING_KEY_TYPE'
  | 'DIVOC_DATA_DIR'
  | 'KAFKA_BROKERS'
  | 'DATABASE_URL'
>;

const isEmbedded = (env: KeySettings): boolean => env.KAFKA_BROKERS === undefined && env.DATABASE_URL === undefined;

/**
 * The signing key: CERTIFICATE_PRIVATE_KEY or CERTIFICATE_PRIVATE_KEY_FILE; in embedded mode only, a
 * development key under DIVOC_DATA_DIR/keys is created on first use. Its type must match
 * SIGNING_KEY_TYPE, so a misconfigured deployment stops at start instead of issuing the wrong suite.
 */
export const loadSigningKey = (env: KeySettings): SigningKey => {
  let key: SigningKey;
  try {
    if (env.CERTIFICATE_PRIVATE_KEY) key = signingKeyFromPem(env.CERTIFICATE_PRIVATE_KEY);
    else if (env.CERTIFICATE_PRIVATE_KEY_FILE)
      key = signingKeyFromPem(readFileSync(env.CERTIFICATE_PRIVATE_KEY_FILE, 'utf8'));
    else if (isEmbedded(env))
      key = loadOrCreateSigningKey(join(resolve(env.DIVOC_DATA_DIR), 'keys'), env.SIGNING_KEY_TYPE).key;
    else throw new Error('is required outside embedded mode (or CERTIFICATE_PRIVATE_KEY_FILE)');
  } catch (error) {
    throw new EnvironmentError([`CERTIFICATE_PRIVATE_KEY ${(error as Error).message}`]);
  }
  if (key.type !== env.SIGNING_KEY_TYPE) {
    throw new EnvironmentError([`SIGNING_KEY_TYPE is ${env.SIGNING_KEY_TYPE} but the signing key is ${key.type}`]);
  }
  return key;
};
