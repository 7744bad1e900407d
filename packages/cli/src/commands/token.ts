import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROLES } from '@divoc/contracts';
import { createDevIssuer } from '@divoc/platform';
import { CliError, EXIT_USAGE } from '../errors.js';
import { dataDirectory } from '../paths.js';

export const tokenUsage =
  'divoc token --roles facility-staff[,api,…] [--mobile <n>] [--username <name>] [--ttl <seconds>]';

/**
 * Prints (and only prints) a token that embedded mode's authentication accepts: signed by the dev
 * issuer key in .divoc-data/auth, with Keycloak's claim shape. Useless against a real Keycloak.
 */
export const tokenCommand = async (args: string[]): Promise<void> => {
  const { values } = parseArgs({
    args,
    options: {
      roles: { type: 'string' },
      mobile: { type: 'string' },
      username: { type: 'string' },
      ttl: { type: 'string', default: '3600' },
    },
  });
  if (values.roles === undefined) throw new CliError(`--roles is required (usage: ${tokenUsage})`, EXIT_USAGE);
  const roles = values.roles
    .split(',')
    .map((role) => role.trim())
    .filter(Boolean);
  const unknown = roles.filter((role) => !(ROLES as readonly string[]).includes(role));
  if (unknown.length > 0)
    throw new CliError(`unknown role(s) ${unknown.join(', ')}; roles are ${ROLES.join(', ')}`, EXIT_USAGE);
  const ttlSeconds = Number(values.ttl);
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1)
    throw new CliError(`--ttl must be a whole number of seconds`, EXIT_USAGE);
  if (values.mobile !== undefined && !/^\+?\d{6,15}$/.test(values.mobile)) {
    throw new CliError('--mobile must be 6 to 15 digits', EXIT_USAGE);
  }
  const issuer = await createDevIssuer({ directory: join(dataDirectory(), 'auth') });
  const token = await issuer.issue({ roles, mobile: values.mobile, username: values.username, ttlSeconds });
  process.stdout.write(`${token}\n`);
};
