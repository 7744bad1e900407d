import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IcdConfig, VaccineIcdConfig } from '@divoc/contracts';
import { type CredentialConfig, credentialConfigFrom, IssuerEnv } from '@divoc/credentials';
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

/** The issuer's environment (DIVOC's variable names), or a one-line error naming the bad variable. */
export const issuerEnv = (env = process.env): IssuerEnv => {
  const parsed = IssuerEnv.safeParse(env);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new CliError(`environment variable ${issue?.path.join('.')} ${issue?.message}`);
};

/** The issuing settings: environment variables with DIVOC's names, mappings from etcd-config/. */
export const credentialConfig = (env = process.env): CredentialConfig =>
  credentialConfigFrom(issuerEnv(env), {
    icd: readConfigKey('ICD', (value) => IcdConfig.parse(value)),
    vaccineIcd: readConfigKey('VACCINE_ICD', (value) => VaccineIcdConfig.parse(value)),
  });
