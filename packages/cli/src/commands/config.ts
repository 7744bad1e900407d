import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  ConfigFilesError,
  type ConfigStore,
  createEtcdConfigStore,
  createFileConfigStore,
  pullConfig,
  pushConfig,
  silentLogger,
  validateConfigFiles,
} from '@divoc/platform';
import { CliError, EXIT_USAGE } from '../errors.js';
import { configDirectory, dataDirectory, userPath } from '../paths.js';

export const configUsage =
  'divoc config check|push [<dir>] [--keep-existing] | divoc config pull <dir> [--force]   (ETCD_HOSTS, ETCD_PREFIX)';

/** etcd when ETCD_HOSTS is set; otherwise the embedded store of `pnpm start` (which picks changes up live). */
const openStore = (): { store: ConfigStore; where: string } => {
  const hosts = process.env.ETCD_HOSTS?.split(',')
    .map((host) => host.trim())
    .filter(Boolean);
  if (hosts !== undefined && hosts.length > 0) {
    return {
      store: createEtcdConfigStore({ hosts, prefix: process.env.ETCD_PREFIX ?? '', logger: silentLogger() }),
      where: `etcd ${hosts.join(',')}${process.env.ETCD_PREFIX ? ` prefix ${process.env.ETCD_PREFIX}` : ''}`,
    };
  }
  // Created empty when `pnpm start` never ran: the services fall back to etcd-config/ for missing keys.
  const directory = join(dataDirectory(), 'etcd');
  mkdirSync(directory, { recursive: true });
  return { store: createFileConfigStore({ directory, logger: silentLogger(), pollIntervalMs: 0 }), where: directory };
};

const validated = async (directory: string, store?: ConfigStore) => {
  try {
    return await validateConfigFiles(directory, store ? (key) => store.get(key) : undefined);
  } catch (error) {
    if (error instanceof ConfigFilesError) throw new CliError(`${directory}: ${error.message}`);
    throw error;
  }
};

/**
 * Operators change templates and vaccine mappings without a redeploy: `check` validates files with the
 * services' schemas, `push` validates and writes them (with --keep-existing only keys the store lacks),
 * `pull` saves the values in force as files to edit and push back. The services pick changes up live.
 */
export const configCommand = async (args: string[]): Promise<void> => {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { 'keep-existing': { type: 'boolean', default: false }, force: { type: 'boolean', default: false } },
  });
  const [action, dir] = positionals;
  if (!['check', 'push', 'pull'].includes(action ?? '') || positionals.length > 2) {
    throw new CliError(`usage: ${configUsage}`, EXIT_USAGE);
  }
  if (action === 'check') {
    const directory = dir === undefined ? configDirectory() : userPath(dir);
    const texts = await validated(directory);
    process.stdout.write(`${JSON.stringify({ directory, valid: Object.keys(texts) })}\n`);
    return;
  }
  if (action === 'pull' && dir === undefined)
    throw new CliError(`pull needs a directory (usage: ${configUsage})`, EXIT_USAGE);
  const { store, where } = openStore();
  try {
    await store.health().catch((error: unknown) => {
      throw new CliError(`the configuration store (${where}) is not reachable: ${(error as Error).message}`);
    });
    if (action === 'push') {
      const directory = dir === undefined ? configDirectory() : userPath(dir);
      const texts = await validated(directory, store);
      const { written, kept } = await pushConfig(store, texts, { overwrite: !values['keep-existing'] });
      process.stdout.write(`${JSON.stringify({ store: where, written, kept })}\n`);
      return;
    }
    const directory = userPath(dir as string);
    const pulled = await pullConfig(store);
    const taken = Object.keys(pulled).filter((key) => existsSync(join(directory, `${key}.json`)));
    if (taken.length > 0 && !values.force) {
      throw new CliError(
        `${directory}: refusing to overwrite ${taken.map((key) => `${key}.json`).join(', ')} (--force)`,
      );
    }
    mkdirSync(directory, { recursive: true });
    for (const [key, text] of Object.entries(pulled)) writeFileSync(join(directory, `${key}.json`), text);
    process.stdout.write(`${JSON.stringify({ store: where, directory, pulled: Object.keys(pulled) })}\n`);
  } finally {
    await store.close();
  }
};
