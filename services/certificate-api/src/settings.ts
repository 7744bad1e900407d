import { resolve } from 'node:path';
import { configuredPublicKeys, IssuerEnv, KeyConfigurationError, type PublicKey } from '@divoc/credentials';
import { countryAlpha2 } from '@divoc/eu-dcc';
import {
  type ConfigRegistry,
  EnvironmentError,
  type EtcdConfigKeys,
  envPort,
  envUrl,
  InfrastructureEnv,
} from '@divoc/platform';
import { z } from 'zod';
import { type ExportKeySettings, loadTravelExportKeys, type TravelExportKeys } from './exports/keys.js';
import type { TravelExportSettings } from './exports/travel-exports.js';

/** The travel exports (DIVOC's variable names; keys come from Kubernetes Secrets). */
export const TravelExportEnv = z.object({
  /** The EU Document Signer Certificate (X.509 PEM) and its private key (PKCS#8 PEM): set both or neither. */
  EU_CERTIFICATE_PUBLIC_KEY: z.string().min(1).optional(),
  EU_CERTIFICATE_PRIVATE_KEY: z.string().min(1).optional(),
  /** Months until an EU certificate's CWT expires. */
  EU_CERTIFICATE_EXPIRY: z.coerce.number().int().min(1).max(120).default(12),
  /** ISO 3166-1 alpha-2 of the issuing state (UVCI and CWT iss); default the country of vaccination. */
  EU_CERTIFICATE_ISSUER_COUNTRY: z
    .string()
    .regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as IN')
    .optional(),
  /** The SMART Health Card issuer key, P-256 (PEM). */
  SHC_CERTIFICATE_PRIVATE_KEY: z.string().min(1).optional(),
  /** Public keys (PEM) of rotated-out SHC keys: listed in the JWKS so the cards they signed still verify. */
  SHC_CERTIFICATE_RETIRED_PUBLIC_KEYS: z.string().min(1).optional(),
  /** The SHC `iss`: the public base URL of certificate-api; default from CERTIFICATE_ISSUER (did:web or URL). */
  SHC_ISSUER: envUrl.optional(),
  /** The authority in EU `v[0].is` and in the FHIR Organization. */
  FHIR_PUBLIC_HEALTH_AUTHORITY: z.string().min(1).max(80).default('Ministry of Health'),
});
export type TravelExportEnv = z.infer<typeof TravelExportEnv>;

export const CertificateApiEnv = InfrastructureEnv.extend({
  PORT: envPort(4321),
  CERTIFICATE_ISSUER: IssuerEnv.shape.CERTIFICATE_ISSUER,
  FACILITY_COUNTRY_CODE: IssuerEnv.shape.FACILITY_COUNTRY_CODE,
  /** The signing key's public half (PEM), or several concatenated: the current key and rotated-out ones. */
  CERTIFICATE_PUBLIC_KEY: z.string().optional(),
  ...TravelExportEnv.shape,
});
export type CertificateApiEnv = z.infer<typeof CertificateApiEnv>;

/** The keys whose certificates verify (see `configuredPublicKeys`), as an EnvironmentError when unusable. */
const isEmbedded = (env: InfrastructureEnv): boolean =>
  env.KAFKA_BROKERS === undefined && env.DATABASE_URL === undefined;

export const loadTrustedPublicKeys = (env: CertificateApiEnv): PublicKey[] => {
  try {
    const embedded = isEmbedded(env);
    return configuredPublicKeys({
      pem: env.CERTIFICATE_PUBLIC_KEY,
      developmentDirectory: embedded ? resolve(env.DIVOC_DATA_DIR) : undefined,
    });
  } catch (error) {
    if (error instanceof KeyConfigurationError) throw new EnvironmentError([error.message]);
    throw error;
  }
};

/**
 * The SHC `iss`: SHC_ISSUER, else the https origin of a did:web or URL CERTIFICATE_ISSUER; in embedded
 * mode the local certificate-api, which serves the JWKS.
 */
export const shcIssuer = (
  env: Pick<TravelExportEnv, 'SHC_ISSUER'> & InfrastructureEnv & { CERTIFICATE_ISSUER: string },
  port: number,
): string => {
  if (env.SHC_ISSUER !== undefined) return env.SHC_ISSUER.replace(/\/+$/, '');
  if (isEmbedded(env)) return `http://localhost:${port}`;
  const issuer = env.CERTIFICATE_ISSUER;
  if (/^https?:\/\//.test(issuer)) return issuer.replace(/\/+$/, '');
  const didWeb = /^did:web:([^:]+)((?::[^:]+)*)$/.exec(issuer);
  if (didWeb?.[1] !== undefined) {
    const path = (didWeb[2] ?? '').split(':').filter(Boolean).map(decodeURIComponent).join('/');
    return `https://${decodeURIComponent(didWeb[1])}${path ? `/${path}` : ''}`;
  }
  throw new EnvironmentError([`SHC_ISSUER is required: CERTIFICATE_ISSUER "${issuer}" is neither a URL nor a did:web`]);
};

/** The EU DSC and SHC key (see `loadTravelExportKeys`); embedded mode keeps test keys in the data directory. */
export const loadExportKeys = (
  env: TravelExportEnv & InfrastructureEnv & { FACILITY_COUNTRY_CODE: string },
): Promise<TravelExportKeys> => {
  const settings: ExportKeySettings = {
    euCertificate: env.EU_CERTIFICATE_PUBLIC_KEY,
    euPrivateKey: env.EU_CERTIFICATE_PRIVATE_KEY,
    shcPrivateKey: env.SHC_CERTIFICATE_PRIVATE_KEY,
    shcRetiredPublicKeys: env.SHC_CERTIFICATE_RETIRED_PUBLIC_KEYS,
    // Not keys/: every PEM there is a credential key.
    developmentDirectory: isEmbedded(env) ? resolve(env.DIVOC_DATA_DIR, 'travel-keys') : undefined,
    developmentCountry: env.EU_CERTIFICATE_ISSUER_COUNTRY ?? countryAlpha2(env.FACILITY_COUNTRY_CODE),
  };
  return loadTravelExportKeys(settings);
};

/** The exports' settings: the environment plus the etcd maps in force (read on every export). */
export const travelExportSettings = (
  env: TravelExportEnv & InfrastructureEnv & { CERTIFICATE_ISSUER: string },
  port: number,
  { registry, keys }: { registry: ConfigRegistry; keys: EtcdConfigKeys },
): TravelExportSettings => ({
  publicHealthAuthority: env.FHIR_PUBLIC_HEALTH_AUTHORITY,
  euExpiryMonths: env.EU_CERTIFICATE_EXPIRY,
  euIssuerCountry: env.EU_CERTIFICATE_ISSUER_COUNTRY,
  shcIssuer: shcIssuer(env, port),
  euMaps: () => ({
    euVaccineCode: registry.get(keys.euVaccineCode),
    euVaccineProph: registry.get(keys.euVaccineProph),
    euVaccineManuf: registry.get(keys.euVaccineManuf),
  }),
  shcMaps: () => ({ shcVaccineCode: registry.get(keys.shcVaccineCode) }),
  icd: () => registry.get(keys.ICD),
  vaccineIcd: () => registry.get(keys.VACCINE_ICD),
});
