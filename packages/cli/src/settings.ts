import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IcdConfig, VaccineIcdConfig } from '@divoc/contracts';
import type { CredentialConfig } from '@divoc/credentials';
import { CliError } from './errors.js';
import { configDirectory } from './paths.js';

const readConfigKey = <T>(key: string, parse: (value: unknown) => T): T => {
  const path = join(configDirectory(), `${key}.json`);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new CliError(`${path}: cannot read the ${key} configuration (${(error as Error).message})`);
  }
  try {
    return parse(value);
  } catch (error) {
    throw new CliError(`${path}: invalid ${key} (${(error as Error).message.split('\n')[0]})`);
  }
};

/** The issuing settings: environment variables with DIVOC's names, mappings from etcd-config/. */
export const credentialConfig = (env = process.env): CredentialConfig => ({
  issuer: env.CERTIFICATE_ISSUER ?? 'did:web:divoc.example',
  evidenceBaseUrl: env.CERTIFICATE_BASE_URL ?? 'https://divoc.example/vaccine/',
  infoUrl: env.CERTIFICATE_INFO_BASE_URL,
  feedbackBaseUrl: env.CERTIFICATE_FEEDBACK_BASE_URL,
  facilityCountryCode: env.FACILITY_COUNTRY_CODE ?? 'IN',
  identityRejectionPattern: new RegExp(env.IDENTITY_REJECTION_PATTERN ?? '^NA$|^.?$'),
  identityPrefix: 'did:india',
  icd: readConfigKey('ICD', (value) => IcdConfig.parse(value)),
  vaccineIcd: readConfigKey('VACCINE_ICD', (value) => VaccineIcdConfig.parse(value)),
});
