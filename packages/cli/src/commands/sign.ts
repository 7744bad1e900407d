import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CertificationRequest,
  CertificationRequestV2,
  TestCertificationRequest,
  toFieldErrors,
} from '@divoc/contracts';
import {
  buildTestCredential,
  buildVaccinationCredential,
  loadOrCreateSigningKey,
  newCertificateId,
  readSigningKey,
  type SigningKey,
  signCredential,
  UnknownVaccineError,
} from '@divoc/credentials';
import { CliError, EXIT_USAGE } from '../errors.js';
import { keyErrors, parseJson, readInput } from '../files.js';
import { dataDirectory, userPath } from '../paths.js';
import { credentialConfig, issuerEnv } from '../settings.js';
import { writeQrPng } from './qr-output.js';

export const signUsage = 'divoc sign <request.json> [--item N] [--api v1|v3] [--keys <dir>] [--qr out.png]';

/** Without --keys, a development key in .divoc-data/keys is used (and created on first use). */
export const defaultSigningKey = (): SigningKey => {
  const dir = join(dataDirectory(), 'keys');
  const { key, created } = loadOrCreateSigningKey(dir, issuerEnv().SIGNING_KEY_TYPE);
  if (created) process.stderr.write(`created a development ${key.type} signing key in ${dir}\n`);
  return key;
};

const pickItem = (body: unknown, index: number, path: string): Record<string, unknown> => {
  const items = Array.isArray(body) ? body : [body];
  const item = items[index];
  if (item === undefined) throw new CliError(`${path}: has ${items.length} item(s); --item ${index} does not exist`);
  if (typeof item !== 'object' || item === null) throw new CliError(`${path}: item ${index} is not a JSON object`);
  return item as Record<string, unknown>;
};

const schemaError = (path: string, index: number, issues: Parameters<typeof toFieldErrors>[0]): CliError =>
  new CliError(
    `${path}: item ${index} is not a valid request: ${toFieldErrors(issues)
      .map((error) => `${error.path} ${error.message}`)
      .join('; ')}`,
  );

export const signCommand = async (args: string[]): Promise<void> => {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      item: { type: 'string', default: '0' },
      api: { type: 'string', default: 'v3' },
      keys: { type: 'string' },
      qr: { type: 'string' },
    },
  });
  const [file] = positionals;
  if (file === undefined) throw new CliError(`usage: ${signUsage}`, EXIT_USAGE);
  const index = Number(values.item);
  if (!Number.isInteger(index) || index < 0)
    throw new CliError(`--item must be a whole number, not "${values.item}"`, EXIT_USAGE);
  if (values.api !== 'v1' && values.api !== 'v3')
    throw new CliError(`--api must be v1 or v3, not "${values.api}"`, EXIT_USAGE);

  const path = userPath(file);
  const item = pickItem(parseJson(readInput(path), file), index, file);
  const key = keyErrors(() =>
    values.keys === undefined ? defaultSigningKey() : readSigningKey(userPath(values.keys as string)),
  );
  const config = credentialConfig();
  const facts = { certificateId: newCertificateId(), issuanceDate: new Date() };

  let credential: Parameters<typeof signCredential>[0];
  if ('testDetails' in item) {
    const parsed = TestCertificationRequest.safeParse(item);
    if (!parsed.success) throw schemaError(file, index, parsed.error.issues);
    credential = buildTestCredential(parsed.data, facts, config);
  } else {
    const schema = values.api === 'v1' ? CertificationRequest : CertificationRequestV2;
    const parsed = schema.safeParse(item);
    if (!parsed.success) throw schemaError(file, index, parsed.error.issues);
    try {
      credential = buildVaccinationCredential(parsed.data, values.api, facts, config);
    } catch (error) {
      if (error instanceof UnknownVaccineError) throw new CliError(`${file}: item ${index}: ${error.message}`);
      throw error;
    }
  }
  const signed = await signCredential(credential, { key });
  if (values.qr !== undefined) writeFileSync(userPath(values.qr), await writeQrPng(signed));
  process.stdout.write(`${JSON.stringify(signed, null, 2)}\n`);
};
