import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  checkVaccineCodesKnown,
  ETCD_KEYS,
  type EtcdKey,
  type IcdConfig,
  type VaccineIcdConfig,
} from '@divoc/contracts';
import type { z } from 'zod';
import type { Logger } from '../logging.js';
import { Counter, Gauge, type Registry } from '../metrics.js';
import type { ConfigStore } from './port.js';

/** Reads the value of another key inside a `check` (undefined when that key is not registered). */
export type ConfigLookup = <U>(key: ConfigKey<U>) => U | undefined;

/** One configuration key: its name in the store, the schema of its (JSON) value, its bundled default. */
export interface ConfigKey<T> {
  key: string;
  schema: z.ZodType<T>;
  /** Used when the store has no value for the key (or, at start-up, an invalid one). */
  default?: T;
  /** Cross-key rules; returns the problems (empty = fine). Runs against the values currently in force. */
  check?(value: T, get: ConfigLookup): string[];
}

export interface ConfigRegistry {
  /** The value in force: the last valid value from the store, or the default. */
  get<T>(key: ConfigKey<T>): T;
  /** Called after every accepted change; returns the function that unsubscribes. */
  onChange<T>(key: ConfigKey<T>, listener: (value: T) => void): () => void;
  /** 1 for the value loaded at start, incremented on every accepted change (e.g. to key derived caches). */
  version(key: ConfigKey<unknown>): number;
  /** Stops watching the store (the store itself stays open: its owner closes it). */
  close(): Promise<void>;
}

export interface ConfigRegistryOptions {
  logger: Logger;
  /** Where `divoc_config_rejected_total{key}` and `divoc_config_value_valid{key}` are registered. */
  metrics?: Registry;
}

const MAX_LOGGED_PROBLEMS = 5;

type Validation = { ok: true; value: unknown } | { ok: false; problems: string[] };

interface Entry {
  key: ConfigKey<unknown>;
  value: unknown;
  version: number;
  /** The raw text of the value in force (undefined when it is the default). */
  acceptedRaw: string | undefined;
  /** The last raw text the store reported (to ignore repeated notifications). */
  seenRaw: string | undefined;
  /** A stored value that was rejected and is not in force; retried when another key changes. */
  pendingRaw: string | undefined;
  listeners: Set<(value: unknown) => void>;
}

/** JSON.parse messages quote the input; keep only where it failed, never the value itself. */
const describeJsonError = (error: unknown): string => {
  const where = error instanceof Error ? /at position \d+(?: \(line \d+ column \d+\))?/.exec(error.message) : null;
  return where ? `not valid JSON (${where[0]})` : 'not valid JSON';
};

/** "path: message" per issue; for a bad record key, the key's own problem (e.g. "must be an ICD-11 code"). */
const describeIssues = (issues: readonly z.core.$ZodIssue[]): string[] =>
  issues.map((issue) => {
    const where = issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
    const nested =
      issue.code === 'invalid_key' || issue.code === 'invalid_element'
        ? issue.issues.map((inner) => inner.message).join(', ')
        : '';
    return `${where}: ${issue.message}${nested ? ` (${nested})` : ''}`;
  });

const metricOf = <M>(registry: Registry, name: string, create: () => M): M =>
  (registry.getSingleMetric(name) as M | undefined) ?? create();

/**
 * A typed view of the configuration store (DESIGN §10). Every value is validated (JSON, schema, cross-key
 * rules) when it is loaded and whenever it changes; an invalid change is rejected — the last good value stays
 * in force, an error names the key and the first problems (never the value), `divoc_config_rejected_total`
 * is incremented and `divoc_config_value_valid` drops to 0 until a valid value arrives. A typo never breaks
 * issuance.
 */
export const createConfigRegistry = async (
  store: ConfigStore,
  keys: readonly ConfigKey<unknown>[],
  { logger, metrics }: ConfigRegistryOptions,
): Promise<ConfigRegistry> => {
  const log = logger.child({ component: 'config' });
  const entries = new Map<string, Entry>();
  const rejected = metrics
    ? metricOf(
        metrics,
        'divoc_config_rejected_total',
        () =>
          new Counter({
            name: 'divoc_config_rejected_total',
            help: 'Configuration values rejected (invalid JSON, schema or cross-key rule); the last good value stayed in force',
            labelNames: ['key'],
            registers: [metrics],
          }),
      )
    : undefined;
  const valid = metrics
    ? metricOf(
        metrics,
        'divoc_config_value_valid',
        () =>
          new Gauge({
            name: 'divoc_config_value_valid',
            help: '1 when the stored value of the key is in force, 0 while a rejected value waits to be fixed',
            labelNames: ['key'],
            registers: [metrics],
          }),
      )
    : undefined;

  const lookup: ConfigLookup = <U>(key: ConfigKey<U>) => entries.get(key.key)?.value as U | undefined;

  const parse = (key: ConfigKey<unknown>, raw: string): Validation => {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (error) {
      return { ok: false, problems: [describeJsonError(error)] };
    }
    const result = key.schema.safeParse(json);
    return result.success
      ? { ok: true, value: result.data }
      : { ok: false, problems: describeIssues(result.error.issues) };
  };

  const validate = (key: ConfigKey<unknown>, raw: string): Validation => {
    const parsed = parse(key, raw);
    if (!parsed.ok || !key.check) return parsed;
    const problems = key.check(parsed.value, lookup);
    return problems.length > 0 ? { ok: false, problems } : parsed;
  };

  const markRejected = (entry: Entry, raw: string, problems: string[], message: string): void => {
    entry.pendingRaw = raw;
    rejected?.inc({ key: entry.key.key });
    valid?.set({ key: entry.key.key }, 0);
    log.error(
      {
        key: entry.key.key,
        problems: problems.slice(0, MAX_LOGGED_PROBLEMS),
        problemCount: problems.length,
        version: entry.version,
      },
      message,
    );
  };

  const accept = (entry: Entry, raw: string, value: unknown): void => {
    entry.pendingRaw = undefined;
    valid?.set({ key: entry.key.key }, 1);
    if (raw === entry.acceptedRaw) return; // back to the value already in force
    entry.value = value;
    entry.acceptedRaw = raw;
    entry.version += 1;
    log.info({ key: entry.key.key, version: entry.version }, 'configuration change applied');
    for (const listener of [...entry.listeners]) {
      try {
        listener(value);
      } catch (error) {
        log.error({ key: entry.key.key, err: error }, 'configuration change listener failed');
      }
    }
  };

  /** A rejected value may become valid when another key changes (e.g. VACCINE_ICD waiting for a new ICD code). */
  const retryPending = (): void => {
    for (let progress = true; progress; ) {
      progress = false;
      for (const entry of entries.values()) {
        if (entry.pendingRaw === undefined) continue;
        const result = validate(entry.key, entry.pendingRaw);
        if (!result.ok) continue;
        log.info({ key: entry.key.key }, 'previously rejected configuration value is now consistent');
        accept(entry, entry.pendingRaw, result.value);
        progress = true;
      }
    }
  };

  const handleChange = (entry: Entry, raw: string | undefined): void => {
    if (raw === entry.seenRaw) return;
    entry.seenRaw = raw;
    if (raw === undefined) {
      entry.pendingRaw = undefined;
      valid?.set({ key: entry.key.key }, 1);
      log.warn(
        { key: entry.key.key, version: entry.version },
        'configuration key deleted; keeping the last good value',
      );
      return;
    }
    const result = validate(entry.key, raw);
    if (!result.ok) {
      markRejected(entry, raw, result.problems, 'configuration change rejected; keeping the last good value');
      return;
    }
    const before = entry.version;
    accept(entry, raw, result.value);
    if (entry.version !== before) retryPending();
  };

  // Watch first, then read: a change made between the two is reported by the watch and applied after start.
  let started = false;
  const duringStart = new Map<string, string | undefined>();
  const unwatches: (() => void)[] = [];
  const stopWatching = (): void => {
    for (const unwatch of unwatches.splice(0)) unwatch();
  };

  try {
    for (const key of keys) {
      if (entries.has(key.key)) throw new Error(`configuration key "${key.key}" is registered twice`);
      entries.set(key.key, {
        key,
        value: undefined,
        version: 1,
        acceptedRaw: undefined,
        seenRaw: undefined,
        pendingRaw: undefined,
        listeners: new Set(),
      });
      unwatches.push(
        await store.watch(key.key, (raw) => {
          const entry = entries.get(key.key);
          if (!entry) return;
          if (started) handleChange(entry, raw);
          else duringStart.set(key.key, raw);
        }),
      );
    }

    const failures: string[] = [];
    const useDefault = (entry: Entry, reason: string): boolean => {
      if (entry.key.default === undefined) {
        failures.push(`configuration key "${entry.key.key}": ${reason} and there is no default`);
        return false;
      }
      const result = entry.key.schema.safeParse(entry.key.default);
      if (!result.success) {
        const problems = describeIssues(result.error.issues).slice(0, MAX_LOGGED_PROBLEMS).join('; ');
        failures.push(`configuration key "${entry.key.key}": ${reason} and the default is invalid: ${problems}`);
        return false;
      }
      entry.value = result.data;
      entry.acceptedRaw = undefined;
      return true;
    };

    // 1. Each key on its own: stored value, else the default.
    for (const entry of entries.values()) {
      const raw = await store.get(entry.key.key);
      entry.seenRaw = raw;
      valid?.set({ key: entry.key.key }, 1);
      rejected?.inc({ key: entry.key.key }, 0);
      if (raw === undefined) {
        if (useDefault(entry, 'no value in the store')) {
          log.info({ key: entry.key.key }, 'configuration key not in the store; using the default');
        }
        continue;
      }
      const result = parse(entry.key, raw);
      if (result.ok) {
        entry.value = result.value;
        entry.acceptedRaw = raw;
      } else if (useDefault(entry, `stored value is invalid (${result.problems.slice(0, 3).join('; ')})`)) {
        markRejected(entry, raw, result.problems, 'stored configuration value is invalid; using the default');
      }
    }
    if (failures.length > 0) throw new Error(failures.join('\n'));

    // 2. Cross-key rules: a stored value that breaks one falls back to its default; repeat until stable.
    for (let round = 0; round <= entries.size; round += 1) {
      const broken = [...entries.values()].flatMap((entry) => {
        const problems = entry.key.check?.(entry.value, lookup) ?? [];
        return problems.length > 0 ? [{ entry, problems }] : [];
      });
      if (broken.length === 0) break;
      const fixable = broken.filter(({ entry }) => entry.acceptedRaw !== undefined && entry.key.default !== undefined);
      if (fixable.length === 0 || round === entries.size) {
        for (const { entry, problems } of broken) {
          failures.push(`configuration key "${entry.key.key}": ${problems.slice(0, 3).join('; ')}`);
        }
        break;
      }
      for (const { entry, problems } of fixable) {
        const raw = entry.acceptedRaw ?? '';
        useDefault(entry, 'stored value breaks a cross-key rule');
        markRejected(entry, raw, problems, 'stored configuration value breaks a cross-key rule; using the default');
      }
    }
    if (failures.length > 0) throw new Error(failures.join('\n'));
  } catch (error) {
    stopWatching();
    throw error;
  }

  started = true;
  for (const [name, raw] of duringStart) {
    const entry = entries.get(name);
    if (entry) handleChange(entry, raw);
  }

  const entryOf = (key: ConfigKey<unknown>): Entry => {
    const entry = entries.get(key.key);
    if (!entry) throw new Error(`configuration key "${key.key}" is not registered`);
    return entry;
  };

  return {
    get: <T>(key: ConfigKey<T>): T => entryOf(key as ConfigKey<unknown>).value as T,
    onChange: <T>(key: ConfigKey<T>, listener: (value: T) => void) => {
      const listeners = entryOf(key as ConfigKey<unknown>).listeners;
      const wrapped = listener as (value: unknown) => void;
      listeners.add(wrapped);
      return () => {
        listeners.delete(wrapped);
      };
    },
    version: (key) => entryOf(key).version,
    close: async () => stopWatching(),
  };
};

/** The typed keys of `@divoc/contracts` `ETCD_KEYS`. */
export type EtcdConfigKeys = { [K in EtcdKey]: ConfigKey<z.output<(typeof ETCD_KEYS)[K]>> };

/**
 * Builds a `ConfigKey` for every key of `ETCD_KEYS`, with its schema, the bundled default (from
 * `loadDefaultConfig`, validated here) and the cross-key rules: every code VACCINE_ICD points at must exist
 * in ICD — checked on a VACCINE_ICD change and, symmetrically, on an ICD change that would drop a code in use.
 */
export const createEtcdConfigKeys = (defaults: Readonly<Record<string, unknown>> = {}): EtcdConfigKeys => {
  const built: Record<string, ConfigKey<unknown>> = {};
  for (const [name, schema] of Object.entries(ETCD_KEYS) as [EtcdKey, z.ZodType<unknown>][]) {
    const key: ConfigKey<unknown> = { key: name, schema };
    if (defaults[name] !== undefined) {
      const result = schema.safeParse(defaults[name]);
      if (!result.success) {
        const problems = describeIssues(result.error.issues).slice(0, MAX_LOGGED_PROBLEMS).join('; ');
        throw new Error(`bundled default of configuration key "${name}" is invalid: ${problems}`);
      }
      key.default = result.data;
    }
    built[name] = key;
  }
  const keys = built as EtcdConfigKeys;
  keys.VACCINE_ICD.check = (vaccines: VaccineIcdConfig, get: ConfigLookup) => {
    const icd = get(keys.ICD);
    return icd ? checkVaccineCodesKnown(vaccines, icd) : [];
  };
  keys.ICD.check = (icd: IcdConfig, get: ConfigLookup) => {
    const vaccines = get(keys.VACCINE_ICD);
    return vaccines
      ? checkVaccineCodesKnown(vaccines, icd).map((problem) => `ICD would no longer define a code in use: ${problem}`)
      : [];
  };
  return keys;
};

/** The keys of `createEtcdConfigKeys` as the list `createConfigRegistry` takes. */
export const etcdConfigKeyList = (keys: EtcdConfigKeys): ConfigKey<unknown>[] =>
  Object.values(keys) as ConfigKey<unknown>[];

/** Reads the bundled defaults: every `<directory>/<KEY>.json` (e.g. `etcd-config/`), parsed, by key. */
export const loadDefaultConfig = async (directory: string): Promise<Record<string, unknown>> => {
  const names = (await readdir(directory)).filter((name) => name.endsWith('.json') && !name.startsWith('.')).sort();
  const defaults: Record<string, unknown> = {};
  for (const name of names) {
    const text = await readFile(join(directory, name), 'utf8');
    try {
      defaults[name.slice(0, -'.json'.length)] = JSON.parse(text);
    } catch (error) {
      throw new Error(`default configuration file ${join(directory, name)} is ${describeJsonError(error)}`);
    }
  }
  return defaults;
};
