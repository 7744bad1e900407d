import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ETCD_KEYS } from '@divoc/contracts';
import type { ConfigStore } from './port.js';
import { type ConfigKey, createEtcdConfigKeys, loadDefaultConfig } from './registry.js';

/** Configuration files that cannot be pushed; `problems` names each file and what is wrong with it. */
export class ConfigFilesError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

/**
 * Reads `<directory>/<KEY>.json` files (the layout of `etcd-config/`) and validates each with the schema
 * the services use, plus the cross-key rules (VACCINE_ICD codes must exist in ICD) against `current`
 * for keys the directory does not hold. Returns the files' text by key, exactly as written (the
 * operator's layout survives a push). Throws `ConfigFilesError` listing every problem.
 */
export const validateConfigFiles = async (
  directory: string,
  current: (key: string) => Promise<string | undefined> = async () => undefined,
): Promise<Record<string, string>> => {
  let parsed: Record<string, unknown>;
  try {
    parsed = await loadDefaultConfig(directory);
  } catch (error) {
    throw new ConfigFilesError([(error as Error).message]);
  }
  const unknown = Object.keys(parsed).filter((key) => !(key in ETCD_KEYS));
  if (unknown.length > 0) {
    throw new ConfigFilesError([
      `${unknown.map((key) => `${key}.json`).join(', ')} in ${directory}: not a key the services read (known keys: ${Object.keys(ETCD_KEYS).join(', ')})`,
    ]);
  }
  let keys: ReturnType<typeof createEtcdConfigKeys>;
  try {
    keys = createEtcdConfigKeys(parsed);
  } catch (error) {
    throw new ConfigFilesError([(error as Error).message.replace('bundled default of configuration key', 'key')]);
  }
  // Cross-key rules see the pushed value of a key, else the value in the store.
  const stored = new Map<string, unknown>();
  for (const name of Object.keys(ETCD_KEYS)) {
    if (name in parsed) continue;
    const text = await current(name);
    if (text === undefined) continue;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      continue; // A broken stored value is not in force either: the services keep their last good one.
    }
    const result = (keys as unknown as Record<string, ConfigKey<unknown>>)[name]?.schema.safeParse(json);
    if (result?.success) stored.set(name, result.data);
  }
  const lookup = <T>(key: ConfigKey<T>): T | undefined => (key.default ?? stored.get(key.key)) as T | undefined;
  const problems = (Object.values(keys) as ConfigKey<unknown>[]).flatMap((key) =>
    key.check && key.default !== undefined ? key.check(key.default, lookup) : [],
  );
  if (problems.length > 0) throw new ConfigFilesError(problems);
  const texts: Record<string, string> = {};
  for (const key of Object.keys(parsed)) texts[key] = await readFile(join(directory, `${key}.json`), 'utf8');
  return texts;
};

/**
 * Writes validated configuration texts to the store. Without `overwrite` a key the store already holds
 * is kept, so values an operator changed survive a redeployment's default load.
 */
export const pushConfig = async (
  store: ConfigStore,
  texts: Readonly<Record<string, string>>,
  { overwrite = false }: { overwrite?: boolean } = {},
): Promise<{ written: string[]; kept: string[] }> => {
  const written: string[] = [];
  const kept: string[] = [];
  for (const [key, text] of Object.entries(texts)) {
    if (!overwrite && (await store.get(key)) !== undefined) {
      kept.push(key);
      continue;
    }
    await store.put(key, text);
    written.push(key);
  }
  return { written, kept };
};

/** Every configuration key the services read, as the store holds it (keys it does not hold are left out). */
export const pullConfig = async (store: ConfigStore): Promise<Record<string, string>> => {
  const values: Record<string, string> = {};
  for (const key of Object.keys(ETCD_KEYS)) {
    const value = await store.get(key);
    if (value !== undefined) values[key] = value;
  }
  return values;
};
