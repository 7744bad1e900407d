import { resolve } from 'node:path';
import { configuredSigningKey, IssuerEnv, KeyConfigurationError, type SigningKey } from '@divoc/credentials';
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
  /** Updates allowed per dose (DIVOC's CERTIFICATE_UPDATE_LIMIT). */
  CERTIFICATE_UPDATE_LIMIT: z.coerce.number().int().min(0).default(100),
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

/** True when no real infrastructure is configured: the development key may be used. */
export const isEmbedded = (env: Pick<SignerEnv, 'KAFKA_BROKERS' | 'DATABASE_URL'>): boolean =>
  env.KAFKA_BROKERS === undefined && env.DATABASE_URL === undefined;

/** The signing key from the environment (see `configuredSigningKey`), as an EnvironmentError when unusable. */
export const loadSigningKey = (env: KeySettings): SigningKey => {
  try {
    return configuredSigningKey({
      pem: env.CERTIFICATE_PRIVATE_KEY,
      file: env.CERTIFICATE_PRIVATE_KEY_FILE,
      type: env.SIGNING_KEY_TYPE,
      developmentDirectory: isEmbedded(env) ? resolve(env.DIVOC_DATA_DIR) : undefined,
    });
  } catch (error) {
    if (error instanceof KeyConfigurationError) throw new EnvironmentError([error.message]);
    throw error;
  }
};
