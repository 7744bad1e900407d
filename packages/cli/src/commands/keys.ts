import { parseArgs } from 'node:util';
import { generateKeyDirectory, KEY_TYPES, type KeyType } from '@divoc/credentials';
import { CliError, EXIT_USAGE } from '../errors.js';
import { keyErrors } from '../files.js';
import { userPath } from '../paths.js';
import { euDscCommand, euDscUsage, shcKeyCommand, shcKeyUsage } from './travel-keys.js';

const generateUsage = 'divoc keys generate --type rsa|ed25519 --out <dir>';
export const keysUsage = [generateUsage, euDscUsage, shcKeyUsage].join('\n  ');

export const keysCommand = async (args: string[]): Promise<void> => {
  const [subcommand, ...rest] = args;
  if (subcommand === 'eu-dsc') return euDscCommand(rest);
  if (subcommand === 'shc') return shcKeyCommand(rest);
  if (subcommand !== 'generate') {
    throw new CliError(`divoc keys takes generate, eu-dsc or shc (try: divoc --help)`, EXIT_USAGE);
  }
  const { values } = parseArgs({
    args: rest,
    options: { type: { type: 'string', default: 'rsa' }, out: { type: 'string' } },
  });
  const type = values.type.toUpperCase() as KeyType;
  if (!KEY_TYPES.includes(type)) throw new CliError(`--type must be rsa or ed25519, not "${values.type}"`, EXIT_USAGE);
  if (values.out === undefined) throw new CliError(`--out <dir> is required (usage: ${generateUsage})`, EXIT_USAGE);
  const key = keyErrors(() => generateKeyDirectory(userPath(values.out as string), type));
  process.stdout.write(`${JSON.stringify({ type: key.type, keyId: key.keyId, directory: userPath(values.out) })}\n`);
};
