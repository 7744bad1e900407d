import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type DccType, generateDsc } from '@divoc/eu-dcc';
import { generateShcKey, shcJwks } from '@divoc/shc';
import { CliError, EXIT_USAGE } from '../errors.js';
import { userPath } from '../paths.js';

export const euDscUsage =
  'divoc keys eu-dsc --country <C> --org <O> --cn <CN> [--state <ST>] [--locality <L>] [--unit <OU>] ' +
  '[--algorithm es256|ps256] [--rsa-bits 2048|3072|4096] [--days 365] [--types v,t,r] --out <dir>';
export const shcKeyUsage = 'divoc keys shc --out <dir>';

/** Writes new files only: a key that exists may already be deployed, and overwriting it would orphan it. */
const writeNew = (dir: string, files: Record<string, { content: string; secret?: boolean }>): void => {
  const taken = Object.keys(files).filter((name) => existsSync(join(dir, name)));
  if (taken.length > 0) throw new CliError(`${dir}: refusing to overwrite ${taken.join(', ')}`);
  mkdirSync(dir, { recursive: true });
  for (const [name, { content, secret }] of Object.entries(files)) {
    writeFileSync(join(dir, name), content, secret ? { mode: 0o600 } : {});
  }
};

const RSA_BITS = [2048, 3072, 4096] as const;
const DCC_TYPES = ['v', 't', 'r'] as const;

/**
 * DIVOC's gen-dsc.sh: an EU-DCC Document Signer key, a CSR with subject C, ST, L, O, OU, CN for the national
 * CSCA, and a self-signed DSC for test deployments (EU_CERTIFICATE_PUBLIC_KEY until the CSCA signs one).
 */
export const euDscCommand = async (args: string[]): Promise<void> => {
  const { values } = parseArgs({
    args,
    options: {
      country: { type: 'string' },
      state: { type: 'string' },
      locality: { type: 'string' },
      org: { type: 'string' },
      unit: { type: 'string' },
      cn: { type: 'string' },
      algorithm: { type: 'string', default: 'es256' },
      'rsa-bits': { type: 'string', default: '4096' },
      days: { type: 'string', default: '365' },
      types: { type: 'string' },
      out: { type: 'string' },
    },
  });
  for (const required of ['country', 'org', 'cn', 'out'] as const) {
    if (values[required] === undefined)
      throw new CliError(`--${required} is required (usage: ${euDscUsage})`, EXIT_USAGE);
  }
  const country = (values.country as string).toUpperCase();
  if (!/^[A-Z]{2}$/.test(country))
    throw new CliError(`--country must be ISO 3166-1 alpha-2 such as IN, not "${values.country}"`, EXIT_USAGE);
  const algorithm = values.algorithm.toUpperCase();
  if (algorithm !== 'ES256' && algorithm !== 'PS256') {
    throw new CliError(`--algorithm must be es256 or ps256, not "${values.algorithm}"`, EXIT_USAGE);
  }
  const rsaBits = Number(values['rsa-bits']);
  if (!RSA_BITS.includes(rsaBits as (typeof RSA_BITS)[number])) {
    throw new CliError(`--rsa-bits must be one of ${RSA_BITS.join(', ')}`, EXIT_USAGE);
  }
  const days = Number(values.days);
  if (!Number.isInteger(days) || days < 1 || days > 3650)
    throw new CliError('--days must be a whole number from 1 to 3650', EXIT_USAGE);
  const types = values.types?.split(',').map((type) => type.trim());
  const unknownType = types?.find((type) => !DCC_TYPES.includes(type as DccType));
  if (unknownType !== undefined) throw new CliError(`--types takes v, t and r, not "${unknownType}"`, EXIT_USAGE);

  const generated = await generateDsc({
    subject: {
      C: country,
      ST: values.state,
      L: values.locality,
      O: values.org as string,
      OU: values.unit,
      CN: values.cn as string,
    },
    algorithm,
    rsaModulusLength: rsaBits as (typeof RSA_BITS)[number],
    validityDays: days,
    ...(types === undefined ? {} : { types: types as DccType[] }),
  });
  const dir = userPath(values.out as string);
  writeNew(dir, {
    'dsc.key.pem': { content: generated.privateKeyPem, secret: true },
    'dsc.csr.pem': { content: generated.csrPem },
    'dsc.crt.pem': { content: generated.certificatePem },
  });
  process.stdout.write(
    `${JSON.stringify({
      algorithm,
      kid: generated.kid,
      directory: dir,
      privateKey: join(dir, 'dsc.key.pem'),
      csr: join(dir, 'dsc.csr.pem'),
      selfSignedCertificate: join(dir, 'dsc.crt.pem'),
    })}\n`,
  );
};

/** A SMART Health Card issuer key (P-256) and the JWKS certificate-api will publish for it. */
export const shcKeyCommand = async (args: string[]): Promise<void> => {
  const { values } = parseArgs({ args, options: { out: { type: 'string' } } });
  if (values.out === undefined) throw new CliError(`--out <dir> is required (usage: ${shcKeyUsage})`, EXIT_USAGE);
  const key = await generateShcKey();
  const dir = userPath(values.out);
  writeNew(dir, {
    'shc.key.pem': { content: key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), secret: true },
    'jwks.json': { content: `${JSON.stringify(shcJwks([key]), null, 2)}\n` },
  });
  process.stdout.write(`${JSON.stringify({ kid: key.kid, directory: dir, privateKey: join(dir, 'shc.key.pem') })}\n`);
};
