import type { IcdConfig, VaccineIcdConfig } from '@divoc/contracts';
import { z } from 'zod';
import type { CredentialConfig } from './builder.js';
import { KEY_TYPES } from './keys/keys.js';

/**
 * The issuing settings, from environment variables with DIVOC's names (DESIGN §10). The defaults
 * suit embedded mode; a deployment sets at least CERTIFICATE_ISSUER and CERTIFICATE_BASE_URL.
 */
export const IssuerEnv = z.object({
  CERTIFICATE_ISSUER: z
    .string()
    .regex(/^[a-z][a-z0-9+.-]*:\S+$/i, 'must be a DID or URL')
    .default('did:web:divoc.example'),
  CERTIFICATE_BASE_URL: z.string().url('must be a URL').default('https://divoc.example/vaccine/'),
  CERTIFICATE_INFO_BASE_URL: z.string().url('must be a URL').optional(),
  CERTIFICATE_FEEDBACK_BASE_URL: z.string().url('must be a URL').optional(),
  FACILITY_COUNTRY_CODE: z.string().min(2).max(3).default('IN'),
  IDENTITY_REJECTION_PATTERN: z
    .string()
    .default('^NA$|^.?$')
    .refine((value) => {
      try {
        new RegExp(value);
        return true;
      } catch {
        return false;
      }
    }, 'must be a regular expression'),
  IDENTITY_DID_PREFIX: z.string().min(1).default('did:india'),
  /** Status lists are published at this prefix + list number (revocation-service serves them). */
  CERTIFICATE_STATUS_BASE_URL: z.string().url('must be a URL').default('http://localhost:8003/status-lists/'),
  SIGNING_KEY_TYPE: z
    .string()
    .transform((value) => value.toUpperCase())
    .pipe(z.enum(KEY_TYPES as ['RSA', 'ED25519']))
    .default('RSA'),
});
export type IssuerEnv = z.infer<typeof IssuerEnv>;

/** The builder's settings from the parsed environment and the current etcd mappings. */
export const credentialConfigFrom = (
  env: IssuerEnv,
  mappings: { icd: IcdConfig; vaccineIcd: VaccineIcdConfig },
): CredentialConfig => ({
  issuer: env.CERTIFICATE_ISSUER,
  evidenceBaseUrl: env.CERTIFICATE_BASE_URL,
  infoUrl: env.CERTIFICATE_INFO_BASE_URL,
  feedbackBaseUrl: env.CERTIFICATE_FEEDBACK_BASE_URL,
  facilityCountryCode: env.FACILITY_COUNTRY_CODE,
  identityRejectionPattern: new RegExp(env.IDENTITY_REJECTION_PATTERN),
  identityPrefix: env.IDENTITY_DID_PREFIX,
  icd: mappings.icd,
  vaccineIcd: mappings.vaccineIcd,
});
