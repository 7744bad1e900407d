import { type SpawnSyncOptions, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CertificateApiEnv } from '@divoc/certificate-api/settings';
import { CertificateProcessorEnv } from '@divoc/certificate-processor/settings';
import { SignerEnv } from '@divoc/certificate-signer/settings';
import { NotificationEnv } from '@divoc/notification-service/settings';
import { RevocationServiceEnv } from '@divoc/revocation-service/settings';
import { VaccinationApiEnv } from '@divoc/vaccination-api/settings';
import { afterAll } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { z } from 'zod';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const DEPLOY_DIR = join(REPO_ROOT, 'deploy');

/** The environment schema of every service (each package exports `./settings`). */
export const SERVICE_SCHEMAS = {
  'vaccination-api': VaccinationApiEnv,
  'certificate-signer': SignerEnv,
  'certificate-processor': CertificateProcessorEnv,
  'certificate-api': CertificateApiEnv,
  'revocation-service': RevocationServiceEnv,
  'notification-service': NotificationEnv,
} as const satisfies Record<string, z.ZodObject>;
export type ServiceName = keyof typeof SERVICE_SCHEMAS;
export const SERVICES = Object.keys(SERVICE_SCHEMAS) as ServiceName[];

/** Each service's port when PORT is unset: the default of its schema (DESIGN §2). */
export const SERVICE_PORTS = Object.fromEntries(
  SERVICES.map((service) => [service, SERVICE_SCHEMAS[service].shape.PORT.parse(undefined) as number]),
) as Record<ServiceName, number>;

/** Every variable a service reads: the keys of its zod schema. */
export const variablesOf = (service: ServiceName): string[] => Object.keys(SERVICE_SCHEMAS[service].shape);

/**
 * Variables that a deployment may leave unset, with the reason (docs/configuration.md repeats each reason).
 * Every other variable of a service's schema must be provided by its ConfigMap, a Secret or its container env.
 */
export const MAY_STAY_UNSET: Record<string, string> = {
  CERTIFICATE_PRIVATE_KEY_FILE:
    'the key is given as PEM text in CERTIFICATE_PRIVATE_KEY (the file form is for mounted files)',
  SENDER_PASSWORD: "DIVOC's older name of SMTP_PASSWORD, read only when SMTP_PASSWORD is unset",
  SMTP_USER: 'defaults to SENDER_EMAIL when a password is set, as DIVOC logged in',
  SMS_URL: 'SMS_PRESET=msg91 supplies the gateway URL; a generic gateway sets it',
  SMS_METHOD: 'SMS_PRESET=msg91 supplies the method; a generic gateway defaults to POST',
  SMS_AUTH_HEADER: 'SMS_PRESET=msg91 supplies the header (authkey)',
  SMS_BODY_TEMPLATE: 'SMS_PRESET=msg91 supplies the body; a generic GET gateway needs none',
  SMS_CONTENT_TYPE: 'SMS_PRESET=msg91 supplies the content type',
  SMS_SENDER: 'only needed when the gateway template uses {{sender}} (msg91: set it when enabling SMS)',
  SHC_ISSUER: 'derived from CERTIFICATE_ISSUER (the https origin of a did:web or URL)',
  SHC_CERTIFICATE_RETIRED_PUBLIC_KEYS: 'only after a SMART Health Card key rotation',
};

/** Keys that must only ever come from a Secret (DESIGN §9). */
export const SECRET_VARIABLES = [
  'DATABASE_URL',
  'REDIS_URL',
  'CERTIFICATE_PRIVATE_KEY',
  'EU_CERTIFICATE_PRIVATE_KEY',
  'SHC_CERTIFICATE_PRIVATE_KEY',
  'SMS_AUTH_KEY',
  'SMTP_PASSWORD',
  'SENDER_PASSWORD',
  'KEYCLOAK_PROVISIONING_CLIENT_SECRET',
];

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export const run = (command: string, args: readonly string[], options: SpawnSyncOptions = {}): RunResult => {
  const result = spawnSync(command, args, { encoding: 'utf8', cwd: REPO_ROOT, timeout: 240_000, ...options });
  if (result.error) throw result.error;
  return { status: result.status, stdout: String(result.stdout), stderr: String(result.stderr) };
};

export const runOk = (command: string, args: readonly string[], options: SpawnSyncOptions = {}): string => {
  const result = run(command, args, options);
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.status}:\n${result.stderr}${result.stdout}`);
  }
  return result.stdout;
};

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: any;
};

export const parseManifests = (text: string): K8sObject[] =>
  parseAllDocuments(text)
    .map((document) => {
      if (document.errors.length > 0) throw new Error(document.errors.map((error) => error.message).join('\n'));
      return document.toJS() as K8sObject | null;
    })
    .filter((object): object is K8sObject => object !== null);

export const renderKustomize = (dir: string): K8sObject[] =>
  parseManifests(runOk('kubectl', ['kustomize', join(REPO_ROOT, dir)]));

export const readRepoFile = (path: string): string => readFileSync(join(REPO_ROOT, path), 'utf8');

const created: string[] = [];
// Each test file gets its own copy of this module: its temporary directories go when the file is done.
afterAll(() => {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
});

export const tempDir = (prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), `divoc-deploy-${prefix}-`));
  created.push(dir);
  return dir;
};

/**
 * A PATH with every program of the current PATH except the named ones: a directory of symlinks (the first of
 * each name wins, as in a PATH lookup).
 */
export const pathWithout = (...excluded: string[]): string => {
  const bin = join(tempDir('path'), 'bin');
  mkdirSync(bin);
  const seen = new Set(excluded);
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (seen.has(name)) continue;
      try {
        if (!statSync(join(dir, name)).isFile()) continue;
      } catch {
        continue;
      }
      seen.add(name);
      symlinkSync(join(dir, name), join(bin, name));
    }
  }
  return bin;
};

/** The Secret template's Secrets by name: their keys and placeholder values. */
export const secretTemplates = (): Map<string, Record<string, string>> =>
  new Map(
    parseManifests(readRepoFile('deploy/k8s/secrets/divoc-secrets.template.yaml')).map((secret) => [
      secret.metadata.name,
      secret.stringData as Record<string, string>,
    ]),
  );
