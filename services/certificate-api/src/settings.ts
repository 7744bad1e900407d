import { resolve } from 'node:path';
import { configuredPublicKeys, IssuerEnv, KeyConfigurationError, type PublicKey } from '@divoc/credentials';
import { EnvironmentError, envPort, InfrastructureEnv } from '@divoc/platform';
import { z } from 'zod';

export const CertificateApiEnv = InfrastructureEnv.extend({
  PORT: envPort(4321),
  CERTIFICATE_ISSUER: IssuerEnv.shape.CERTIFICATE_ISSUER,
  /** The signing key's public half (PEM), or several concatenated: the current key and rotated-out ones. */
  CERTIFICATE_PUBLIC_KEY: z.string().optional(),
});
export type CertificateApiEnv = z.infer<typeof CertificateApiEnv>;

/** The keys whose certificates verify (see `configuredPublicKeys`), as an EnvironmentError when unusable. */
export const loadTrustedPublicKeys = (env: CertificateApiEnv): PublicKey[] => {
  try {
    const embedded = env.KAFKA_BROKERS === undefined && env.DATABASE_URL === undefined;
    return configuredPublicKeys({
      pem: env.CERTIFICATE_PUBLIC_KEY,
      developmentDirectory: embedded ? resolve(env.DIVOC_DATA_DIR) : undefined,
    });
  } catch (error) {
    if (error instanceof KeyConfigurationError) throw new EnvironmentError([error.message]);
    throw error;
  }
};
