import { IssuerEnv } from '@divoc/credentials';
import { envPort, InfrastructureEnv } from '@divoc/platform';
import { z } from 'zod';

/** Every variable revocation-service reads. */
export const RevocationServiceEnv = InfrastructureEnv.extend(IssuerEnv.shape).extend({
  PORT: envPort(8003),
  /** Signs the status lists (the issuer's key, as the signer's). */
  CERTIFICATE_PRIVATE_KEY: z.string().optional(),
  CERTIFICATE_PRIVATE_KEY_FILE: z.string().optional(),
  /** The keys whose certificates the revocation check accepts (current and rotated-out). */
  CERTIFICATE_PUBLIC_KEY: z.string().optional(),
});
export type RevocationServiceEnv = z.infer<typeof RevocationServiceEnv>;
