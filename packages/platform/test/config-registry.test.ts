import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IcdConfig, VaccineIcdConfig } from '@divoc/contracts';
import { Etcd3 } from 'etcd3';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEtcdConfigStore } from '../src/config/etcd.js';
import { createFileConfigStore } from '../src/config/files.js';
import type { ConfigStore } from '../src/config/port.js';
import {
  createConfigRegistry,
  createEtcdConfigKeys,
  etcdConfigKeyList,
  loadDefaultConfig,
} from '../src/config/registry.js';
import { createLogger } from '../src/logging.js';
import { createMetricsRegistry, type Registry } from '../src/metrics.js';
import { realInfraEnv, uniqueName, useRealInfra } from '../src/testing/infra.js';

const defaultsDirectory = fileURLToPath(new URL('../../../etcd-config', import.meta.url));

interface OpenStore {
  store: ConfigStore;
  /** Deletes a key behind the store's back (the port has no delete: operators use etcdctl or rm). */
  remove(key: string): Promise<void>;
  dispose(): Promise<void>;
}

/** A fresh, empty store of the adapter under test (etcd under a unique prefix, or a temporary directory). */
const openStore = async (): Promise<OpenStore> => {
  const logger = createLogger({ service: 'test', level: 'silent' });
  if (useRealInfra()) {
    const hosts = realInfraEnv().ETCD_HOSTS.split(',');
    const prefix = `${uniqueName('config-registry')}/`;
    const store = createEtcdConfigStore({ hosts, prefix, logger });
    const direct = new Etcd3({ hosts }).namespace(prefix);
    return {
      store,
      remove: async (key) => {
        await direct.delete().key(key);
      },
      dispose: async () => {
        await store.close();
        await direct.delete().all();
      },
    };
  }
  const directory = await mkdtemp(join(tmpdir(), 'divoc-config-registry-'));
  const store = createFileConfigStore({ directory, logger, debounceMs: 20 });
  return {
    store,
    remove: (key) => rm(join(directory, `${key}.json`)),
    dispose: async () => {
      await store.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
};

/** A logger whose JSON lines the test can read. */
const capturedLogger = () => {
  const lines: Record<string, unknown>[] = [];
  const text: string[] = [];
  const logger = createLogger({
    service: 'test',
    level: 'debug',
    destination: {
      write: (line: string) => {
        text.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  });
  return { logger, lines, text };
};

const metricValue = async (metrics: Registry, name: string, key: string): Promise<number | undefined> => {
  const metric = metrics.getSingleMetric(name);
  if (!metric) return undefined;
  return (await metric.get()).values.find((value) => value.labels.key === key)?.value;
};

const rejectedCount = (metrics: Registry, key: string) => metricValue(metrics, 'divoc_config_rejected_total', key);
const validGauge = (metrics: Registry, key: string) => metricValue(metrics, 'divoc_config_value_valid', key);

const poll = { timeout: 2_000, interval: 20 };

describe(`config registry (${useRealInfra() ? 'etcd' : 'files'})`, () => {
  let defaults: Record<string, unknown>;
  let icd: IcdConfig;
  let vaccines: VaccineIcdConfig;
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    defaults = await loadDefaultConfig(defaultsDirectory);
    icd = defaults.ICD as IcdConfig;
    vaccines = defaults.VACCINE_ICD as VaccineIcdConfig;
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** A store holding the bundled defaults, and a registry over it. */
  const start = async ({ seed = true } = {}) => {
    const { store, remove, dispose } = await openStore();
    cleanups.push(dispose);
    if (seed) {
      await store.put('ICD', JSON.stringify(icd, null, 2));
      await store.put('VACCINE_ICD', JSON.stringify(vaccines, null, 2));
    }
    const { logger, lines, text } = capturedLogger();
    const metrics = createMetricsRegistry('test', { defaults: false });
    const keys = createEtcdConfigKeys(defaults);
    const registry = await createConfigRegistry(store, etcdConfigKeyList(keys), { logger, metrics });
    cleanups.push(() => registry.close());
    return { store, remove, registry, keys, metrics, lines, text };
  };

  const errorsFor = (lines: Record<string, unknown>[], key: string) =>
    lines.filter((line) => line.level === 'error' && line.key === key);

  it('loads the bundled defaults from etcd-config/ (every file, valid under its schema)', () => {
    expect(Object.keys(defaults)).toEqual(expect.arrayContaining(['ICD', 'VACCINE_ICD']));
    const keys = createEtcdConfigKeys(defaults);
    expect(keys.ICD.default).toEqual(icd);
    expect(keys.VACCINE_ICD.default).toEqual(vaccines);
  });

  it('applies a valid change without a restart: new value, new version, listeners told', async () => {
    const { store, registry, keys, metrics } = await start();
    expect(registry.get(keys.VACCINE_ICD)).toEqual(vaccines);
    expect(registry.version(keys.VACCINE_ICD)).toBe(1);
    const heard: VaccineIcdConfig[] = [];
    registry.onChange(keys.VACCINE_ICD, (value) => heard.push(value));

    const changed = [...vaccines, { vaccineName: 'Newvax', icd11Code: 'XM5JC5' }];
    await store.put('VACCINE_ICD', JSON.stringify(changed));

    await expect.poll(() => registry.get(keys.VACCINE_ICD), poll).toEqual(changed);
    expect(registry.version(keys.VACCINE_ICD)).toBe(2);
    expect(heard).toEqual([changed]);
    expect(registry.version(keys.ICD)).toBe(1);
    expect(await validGauge(metrics, 'VACCINE_ICD')).toBe(1);
    expect(await rejectedCount(metrics, 'VACCINE_ICD')).toBe(0);
  });

  it('rejects a change that is not JSON: last good value kept, error logged without the value, metric raised', async () => {
    const { store, registry, keys, metrics, lines, text } = await start();
    const heard: unknown[] = [];
    registry.onChange(keys.VACCINE_ICD, (value) => heard.push(value));

    await store.put('VACCINE_ICD', '[{"vaccineName": "Secretvax", "icd11Code": "XM5JC5"');

    await expect.poll(() => errorsFor(lines, 'VACCINE_ICD').length, poll).toBe(1);
    const [error] = errorsFor(lines, 'VACCINE_ICD');
    expect(error?.problems).toEqual([expect.stringMatching(/not valid JSON/)]);
    expect(text.join('')).not.toContain('Secretvax');
    expect(registry.get(keys.VACCINE_ICD)).toEqual(vaccines);
    expect(registry.version(keys.VACCINE_ICD)).toBe(1);
    expect(heard).toEqual([]);
    expect(await rejectedCount(metrics, 'VACCINE_ICD')).toBe(1);
    expect(await validGauge(metrics, 'VACCINE_ICD')).toBe(0);

    const fixed = [...vaccines, { vaccineName: 'Secretvax', icd11Code: 'XM5JC5' }];
    await store.put('VACCINE_ICD', JSON.stringify(fixed));
    await expect.poll(() => registry.get(keys.VACCINE_ICD), poll).toEqual(fixed);
    expect(registry.version(keys.VACCINE_ICD)).toBe(2);
    expect(await validGauge(metrics, 'VACCINE_ICD')).toBe(1);
    expect(await rejectedCount(metrics, 'VACCINE_ICD')).toBe(1);
  });

  it('rejects a change that breaks the schema, naming the key and the problem', async () => {
    const { store, registry, keys, metrics, lines } = await start();

    await store.put(
      'ICD',
      JSON.stringify({ ...icd, 'not a code': { vaccineType: 'x', icd11Term: 'y', disease: 'z' } }),
    );

    await expect.poll(() => errorsFor(lines, 'ICD').length, poll).toBe(1);
    expect(errorsFor(lines, 'ICD')[0]?.problems).toEqual([expect.stringMatching(/ICD-11 code/)]);
    expect(registry.get(keys.ICD)).toEqual(icd);
    expect(await rejectedCount(metrics, 'ICD')).toBe(1);
    expect(await validGauge(metrics, 'ICD')).toBe(0);

    // A second typo counts again; reverting to the value in force makes the key valid without a new version.
    await store.put('VACCINE_ICD', JSON.stringify([{ vaccineName: 'x', icd11Code: 'XM5JC5', aliases: 'y' }]));
    await expect.poll(() => rejectedCount(metrics, 'VACCINE_ICD'), poll).toBe(1);
    expect(errorsFor(lines, 'VACCINE_ICD')[0]?.problems).toEqual([expect.stringMatching(/^0\.aliases: /)]);
    await store.put('ICD', JSON.stringify(icd, null, 2));
    await expect.poll(() => validGauge(metrics, 'ICD'), poll).toBe(1);
    expect(registry.version(keys.ICD)).toBe(1);
  });

  it('rejects a VACCINE_ICD change pointing at a code ICD does not define, and an ICD change dropping a used code', async () => {
    const { store, registry, keys, metrics, lines } = await start();

    await store.put('VACCINE_ICD', JSON.stringify([...vaccines, { vaccineName: 'Unknownvax', icd11Code: 'XM9999' }]));
    await expect.poll(() => errorsFor(lines, 'VACCINE_ICD').length, poll).toBe(1);
    expect(errorsFor(lines, 'VACCINE_ICD')[0]?.problems).toEqual([expect.stringMatching(/XM9999/)]);
    expect(registry.get(keys.VACCINE_ICD)).toEqual(vaccines);
    expect(await validGauge(metrics, 'VACCINE_ICD')).toBe(0);

    const { XM6AT1: _dropped, ...withoutDna } = icd; // zycov-d points at XM6AT1
    await store.put('ICD', JSON.stringify(withoutDna));
    await expect.poll(() => errorsFor(lines, 'ICD').length, poll).toBe(1);
    expect(errorsFor(lines, 'ICD')[0]?.problems).toEqual([expect.stringMatching(/zycov-d.*XM6AT1/)]);
    expect(registry.get(keys.ICD)).toEqual(icd);
    expect(await rejectedCount(metrics, 'ICD')).toBe(1);
    expect(await validGauge(metrics, 'ICD')).toBe(0);
  });

  it('applies a rejected VACCINE_ICD as soon as ICD defines the code it was waiting for', async () => {
    const { store, registry, keys, metrics, lines } = await start();
    const waiting = [...vaccines, { vaccineName: 'Newvax', icd11Code: 'XM9999' }];
    await store.put('VACCINE_ICD', JSON.stringify(waiting));
    await expect.poll(() => errorsFor(lines, 'VACCINE_ICD').length, poll).toBe(1);

    const extended = {
      ...icd,
      XM9999: { vaccineType: 'New platform', icd11Term: 'COVID-19 vaccine, new', disease: 'COVID-19' },
    };
    await store.put('ICD', JSON.stringify(extended));

    await expect.poll(() => registry.get(keys.VACCINE_ICD), poll).toEqual(waiting);
    expect(registry.get(keys.ICD)).toEqual(extended);
    expect(registry.version(keys.VACCINE_ICD)).toBe(2);
    expect(await validGauge(metrics, 'VACCINE_ICD')).toBe(1);
  });

  it('keeps the last good value when the key is deleted from the store, with a warning', async () => {
    const { store, remove, registry, keys, lines } = await start();
    const changed = vaccines.slice(0, 3);
    await store.put('VACCINE_ICD', JSON.stringify(changed));
    await expect.poll(() => registry.get(keys.VACCINE_ICD), poll).toEqual(changed);

    await remove('VACCINE_ICD');

    await expect
      .poll(() => lines.filter((line) => line.level === 'warn' && line.key === 'VACCINE_ICD').length, poll)
      .toBe(1);
    expect(registry.get(keys.VACCINE_ICD)).toEqual(changed);
    expect(await store.get('VACCINE_ICD')).toBeUndefined();
  });

  it('starts with the default for a key the store does not hold', async () => {
    const { registry, keys, metrics } = await start({ seed: false });
    expect(registry.get(keys.ICD)).toEqual(icd);
    expect(registry.get(keys.VACCINE_ICD)).toEqual(vaccines);
    expect(registry.version(keys.ICD)).toBe(1);
    expect(await validGauge(metrics, 'ICD')).toBe(1);
  });

  it('starts with the default, loudly, when the stored value is invalid and a default exists', async () => {
    const { store, dispose } = await openStore();
    cleanups.push(dispose);
    await store.put('VACCINE_ICD', '[{"vaccineName": "x", "icd11Code": "lowercase"}]');
    const { logger, lines } = capturedLogger();
    const metrics = createMetricsRegistry('test', { defaults: false });
    const keys = createEtcdConfigKeys(defaults);
    const registry = await createConfigRegistry(store, etcdConfigKeyList(keys), { logger, metrics });
    cleanups.push(() => registry.close());

    expect(registry.get(keys.VACCINE_ICD)).toEqual(vaccines);
    expect(errorsFor(lines, 'VACCINE_ICD')).toHaveLength(1);
    expect(await validGauge(metrics, 'VACCINE_ICD')).toBe(0);
    expect(await rejectedCount(metrics, 'VACCINE_ICD')).toBe(1);
  });

  it('refuses to start when a stored value is invalid and there is no default, naming the key and the problem', async () => {
    const { store, dispose } = await openStore();
    cleanups.push(dispose);
    await store.put('ICD', JSON.stringify(icd));
    await store.put('VACCINE_ICD', '[{"vaccineName": "x", "icd11Code": "lowercase"}]');
    const keys = createEtcdConfigKeys({ ICD: icd });
    const { logger } = capturedLogger();

    await expect(createConfigRegistry(store, etcdConfigKeyList(keys), { logger })).rejects.toThrow(
      /configuration key "VACCINE_ICD": stored value is invalid \(0\.icd11Code: must be an ICD-11 code/,
    );
  });

  it('refuses to start when a key is missing and has no default, or a stored value breaks a cross-key rule', async () => {
    const { store, dispose } = await openStore();
    cleanups.push(dispose);
    const { logger } = capturedLogger();

    await expect(createConfigRegistry(store, etcdConfigKeyList(createEtcdConfigKeys({})), { logger })).rejects.toThrow(
      /configuration key "ICD": no value in the store and there is no default/,
    );

    await store.put('VACCINE_ICD', JSON.stringify([{ vaccineName: 'x', icd11Code: 'XM9999' }]));
    // Every other key has its bundled default; only the broken cross-key rule may stop the start.
    const { VACCINE_ICD: _stored, ...others } = defaults;
    const keys = createEtcdConfigKeys({ ...others, ICD: icd });
    await expect(createConfigRegistry(store, etcdConfigKeyList(keys), { logger })).rejects.toThrow(
      /configuration key "VACCINE_ICD": .*XM9999/,
    );
  });

  it('refuses a bundled default that does not pass its schema', () => {
    expect(() => createEtcdConfigKeys({ ICD: { xm: {} } })).toThrow(/bundled default of configuration key "ICD"/);
  });
});
