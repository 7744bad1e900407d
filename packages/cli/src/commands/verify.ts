import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeCredentialQr, readPublicKeys, type TrustedKey, verifyCredential } from '@divoc/credentials';
import { CliError, EXIT_INVALID, EXIT_USAGE } from '../errors.js';
import { keyErrors, parseJson, readInput } from '../files.js';
import { dataDirectory, userPath } from '../paths.js';

export const verifyUsage = 'divoc verify <credential.json|qr.png> [--keys <dir>] [--issuer <id>]';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const readCredential = async (file: string): Promise<unknown> => {
  const bytes = readInput(userPath(file));
  if (!bytes.subarray(0, 8).equals(PNG_SIGNATURE)) return parseJson(bytes, file);
  try {
    return await decodeCredentialQr(bytes);
  } catch (error) {
    throw new CliError(`${file}: cannot read a credential from this QR image (${(error as Error).message})`);
  }
};

export const verifyCommand = async (args: string[]): Promise<void> => {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { keys: { type: 'string' }, issuer: { type: 'string' } },
  });
  const [file] = positionals;
  if (file === undefined) throw new CliError(`usage: ${verifyUsage}`, EXIT_USAGE);
  const dir = values.keys === undefined ? join(dataDirectory(), 'keys') : userPath(values.keys);
  if (values.keys === undefined && !existsSync(dir)) {
    throw new CliError(`no trusted keys: pass --keys <dir> (a directory of public .pem files)`, EXIT_USAGE);
  }
  const issuer = values.issuer ?? process.env.CERTIFICATE_ISSUER ?? 'did:web:divoc.example';
  const trustedKeys: TrustedKey[] = keyErrors(() => readPublicKeys(dir)).map((key) => ({ ...key, controller: issuer }));
  const credential = await readCredential(file);
  const result = await verifyCredential(credential, { trustedKeys });
  if (!result.valid) throw new CliError(`invalid: ${result.reason}: ${result.message}`, EXIT_INVALID);
  process.stdout.write(`valid: signed by ${result.verificationMethod}\n`);
};
