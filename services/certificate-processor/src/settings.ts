import {
  createKeycloakRecipientDirectory,
  EnvironmentError,
  envBoolean,
  envPort,
  InfrastructureEnv,
  type RecipientDirectory,
} from '@divoc/platform';
import { z } from 'zod';

/** Every variable certificate-processor reads. */
export const CertificateProcessorEnv = InfrastructureEnv.extend({
  PORT: envPort(8002),
  /** DIVOC's recipient provisioning: a Keycloak account per new beneficiary mobile number (off by default). */
  KEYCLOAK_RECIPIENT_PROVISIONING: envBoolean(false),
  /** The confidential client that may create users (realm-management manage-users), and its secret. */
  KEYCLOAK_PROVISIONING_CLIENT_ID: z.string().min(1).default('recipient-provisioner'),
  KEYCLOAK_PROVISIONING_CLIENT_SECRET: z.string().min(1).optional(),
  /** The group that grants `recipient`. */
  KEYCLOAK_RECIPIENT_GROUP: z
    .string()
    .startsWith('/', 'must be a group path such as /recipients')
    .default('/recipients'),
});
export type CertificateProcessorEnv = z.infer<typeof CertificateProcessorEnv>;

/** The Keycloak directory when provisioning is on; a stop naming the missing variable when it cannot work. */
export const recipientDirectoryFrom = (env: CertificateProcessorEnv): RecipientDirectory | undefined => {
  if (!env.KEYCLOAK_RECIPIENT_PROVISIONING) return undefined;
  const missing = [
    env.KEYCLOAK_URL === undefined ? 'KEYCLOAK_URL' : undefined,
    env.KEYCLOAK_PROVISIONING_CLIENT_SECRET === undefined ? 'KEYCLOAK_PROVISIONING_CLIENT_SECRET' : undefined,
  ].filter((name) => name !== undefined);
  if (missing.length > 0) {
    throw new EnvironmentError(missing.map((name) => `${name} is required when KEYCLOAK_RECIPIENT_PROVISIONING is on`));
  }
  return createKeycloakRecipientDirectory({
    url: env.KEYCLOAK_URL as string,
    realm: env.KEYCLOAK_REALM,
    clientId: env.KEYCLOAK_PROVISIONING_CLIENT_ID,
    clientSecret: env.KEYCLOAK_PROVISIONING_CLIENT_SECRET as string,
    group: env.KEYCLOAK_RECIPIENT_GROUP,
  });
};
