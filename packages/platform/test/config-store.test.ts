import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterEach, describe, expect, it } from 'vitest';
import { createEtcdConfigStore } from '../src/config/etcd.js';
import { createFileConfigStore } from '../src/config/files.js';
import type { ConfigStore } from '../src/config/port.js';
import { silentLogger } from '../src/logging.js';
import { realInfraEnv, uniqueName, useRealInfra } from '../src/testing/infra.js';

const logger = silentLogger();
const etcdHosts = realInfraEnv().ETCD_HOSTS.split(',');

/** A TCP relay in front of etcd that can be cut and restored, to simulate a network outage. */
const createRelay = async (target: { host: string; port: number }) => {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = async (): Promise<void> => {
    server = createServer((client) => {
      const upstream = new Socket();
      upstream.connect(target.port, target.host);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server?.listen(port, '127.0.0.1', resolve));
    const address = server.address();
    if (address && typeof address === 'object') port = address.port;
  };
  const cut = async (): Promise<void> => {
    const closing = new Promise<void>((resolve) => server?.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closing;
  };
  await listen();
  return { url: () => `http://127.0.0.1:${port}`, cut, restore: listen };
};

/** The adapter under test (DIVOC_INFRA=real: etcd; otherwise the `etcd-config/`-style files), plus test-only powers. */
interface Scope {
  open(options?: { viaRelay?: boolean }): Promise<ConfigStore>;
  /** Deletes a key behind the store's back (the port has no delete: operators do that with etcdctl or rm). */
  remove(key: string): Promise<void>;
  /** Breaks the store's watches, runs `meanwhile` (a change made during the outage), then heals. */
  outage(meanwhile: () => Promise<void>): Promise<void>;
  /** Writes a value behind the store's back. */
  write(key: string, value: string): Promise<void>;
  dispose(): Promise<void>;
}

const etcdScope = async (): Promise<Scope> => {
  const prefix = `${uniqueName('config-store')}/`;
  const direct = new Etcd3({ hosts: etcdHosts });
  const namespace = direct.namespace(prefix);
  const target = new URL(etcdHosts[0] ?? 'http://127.0.0.1:2379');
  const relay = await createRelay({ host: target.hostname, port: Number(target.port || 2379) });
  const stores: ConfigStore[] = [];
  return {
    async open({ viaRelay = false } = {}) {
      const store = createEtcdConfigStore({ hosts: viaRelay ? [relay.url()] : etcdHosts, prefix, logger });
      stores.push(store);
      return store;
    },
    async remove(key) {
      await namespace.delete().key(key);
    },
    async outage(meanwhile) {
      await relay.cut();
      await meanwhile();
      // Compact the history too, so the watch cannot simply resume from its last revision: only re-reading
      // the key after the reconnection finds the change (etcd's auto-compaction does this in production).
      const { header } = await namespace.put('-unrelated').value('moves the revision on').exec();
      await direct.kv.compact({ revision: header.revision });
      await new Promise((resolve) => setTimeout(resolve, 500));
      await relay.restore();
    },
    async write(key, value) {
      await namespace.put(key).value(value);
    },
    async dispose() {
      await Promise.all(stores.map((store) => store.close()));
      await namespace.delete().all();
      await relay.cut();
      direct.close();
    },
  };
};

const fileScope = async (): Promise<Scope> => {
  const directory = await mkdtemp(join(tmpdir(), 'divoc-config-store-'));
  const stores: ConfigStore[] = [];
  return {
    async open() {
      const store = createFileConfigStore({ directory, logger, debounceMs: 20, pollIntervalMs: 200 });
      stores.push(store);
      return store;
    },
    async remove(key) {
      await rm(join(directory, `${key}.json`));
    },
    async outage(meanwhile) {
      // The directory disappears (a volume re-mounted, a ConfigMap replaced): fs.watch on it dies.
      await rm(directory, { recursive: true });
      await new Promise((resolve) => setTimeout(resolve, 100));
      await mkdir(directory);
      await meanwhile();
    },
    async write(key, value) {
      await writeFile(join(directory, `${key}.json`), value);
    },
    async dispose() {
      await Promise.all(stores.map((store) => store.close()));
      await rm(directory, { recursive: true, force: true });
    },
  };
};

const adapter = useRealInfra() ? 'etcd' : 'files';
const newScope = useRealInfra() ? etcdScope : fileScope;

/** Records what a watcher is told. */
const recorder = () => {
  const seen: (string | undefined)[] = [];
  return { seen, onChange: (value: string | undefined) => void seen.push(value) };
};

describe(`config store (${adapter})`, () => {
  let scope: Scope;
  afterEach(async () => scope?.dispose());

  it('reads what was put and nothing for a key never put', async () => {
    scope = await newScope();
    const store = await scope.open();
    expect(await store.get('ICD')).toBeUndefined();
    await store.put('ICD', '{"XM1NL1":{}}');
    expect(await store.get('ICD')).toBe('{"XM1NL1":{}}');
    await store.put('ICD', '{}');
    expect(await store.get('ICD')).toBe('{}');
    await store.health();
  });

  it('tells a watcher about a put within a second, once per actual change', async () => {
    scope = await newScope();
    const store = await scope.open();
    await store.put('VACCINE_ICD', '[]');
    const watcher = recorder();
    await store.watch('VACCINE_ICD', watcher.onChange);

    await store.put('VACCINE_ICD', '["a"]');
    await expect.poll(() => watcher.seen, { timeout: 1_000, interval: 20 }).toEqual(['["a"]']);
    await store.put('VACCINE_ICD', '["a"]'); // same content again (an editor saving twice): not a change
    await store.put('VACCINE_ICD', '["b"]');
    await expect.poll(() => watcher.seen, { timeout: 1_000, interval: 20 }).toEqual(['["a"]', '["b"]']);
  });

  it('tells a watcher about a deletion, and about a key created after the watch started', async () => {
    scope = await newScope();
    const store = await scope.open();
    const watcher = recorder();
    await store.watch('euVaccineCode', watcher.onChange);

    await store.put('euVaccineCode', '{"covishield":"EU/1/21/1529"}');
    await expect.poll(() => watcher.seen, { timeout: 1_000, interval: 20 }).toEqual(['{"covishield":"EU/1/21/1529"}']);
    await scope.remove('euVaccineCode');
    await expect
      .poll(() => watcher.seen, { timeout: 1_000, interval: 20 })
      .toEqual(['{"covishield":"EU/1/21/1529"}', undefined]);
    expect(await store.get('euVaccineCode')).toBeUndefined();
  });

  it('sees changes made by someone else, and stops calling back once unwatched', async () => {
    scope = await newScope();
    const store = await scope.open();
    const other = await scope.open();
    const watcher = recorder();
    const unwatch = await store.watch('ICD', watcher.onChange);

    await other.put('ICD', '{"v":1}');
    await expect.poll(() => watcher.seen, { timeout: 1_000, interval: 20 }).toEqual(['{"v":1}']);
    await scope.write('ICD', '{"v":2}');
    await expect.poll(() => watcher.seen, { timeout: 1_000, interval: 20 }).toEqual(['{"v":1}', '{"v":2}']);

    unwatch();
    await other.put('ICD', '{"v":3}');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(watcher.seen).toEqual(['{"v":1}', '{"v":2}']);
    expect(await store.get('ICD')).toBe('{"v":3}');
  });

  it('keeps two scopes apart', async () => {
    scope = await newScope();
    const second = await newScope();
    try {
      const mine = await scope.open();
      const theirs = await second.open();
      const watcher = recorder();
      await theirs.watch('ICD', watcher.onChange);

      await mine.put('ICD', '{"mine":true}');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await theirs.get('ICD')).toBeUndefined();
      expect(watcher.seen).toEqual([]);
      expect(await mine.get('ICD')).toBe('{"mine":true}');
    } finally {
      await second.dispose();
    }
  });

  it('does not miss a change made while the watch was broken', async () => {
    scope = await newScope();
    const store = await scope.open({ viaRelay: true });
    await store.put('NOTIFICATION_TEMPLATES', '{"v":1}');
    const watcher = recorder();
    await store.watch('NOTIFICATION_TEMPLATES', watcher.onChange);
    await store.put('NOTIFICATION_TEMPLATES', '{"v":2}');
    await expect.poll(() => watcher.seen, { timeout: 1_000, interval: 20 }).toEqual(['{"v":2}']);

    await scope.outage(() => scope.write('NOTIFICATION_TEMPLATES', '{"v":3}'));

    // (The file scope's outage removes the directory, which a watcher may legitimately see as a deletion.)
    await expect.poll(() => watcher.seen.at(-1), { timeout: 15_000, interval: 50 }).toBe('{"v":3}');
    expect(watcher.seen.filter((value) => value !== undefined)).toEqual(['{"v":2}', '{"v":3}']);
    // The watch itself is back (its reconnection backoff is capped at 5 s).
    await store.put('NOTIFICATION_TEMPLATES', '{"v":4}');
    await expect.poll(() => watcher.seen.at(-1), { timeout: 6_000, interval: 20 }).toBe('{"v":4}');
  });
});

describe('file config store', () => {
  it('writes atomically: a put leaves no temporary file and never a partial one', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'divoc-config-files-'));
    const store = createFileConfigStore({ directory: join(directory, 'nested'), logger });
    try {
      const big = JSON.stringify({ payload: 'x'.repeat(1_000_000) });
      const watcher = recorder();
      await store.watch('vaccineCertificateTemplate', watcher.onChange);
      await Promise.all([store.put('vaccineCertificateTemplate', big), store.put('vaccineCertificateTemplate', '{}')]);
      expect(await readdir(join(directory, 'nested'))).toEqual(['vaccineCertificateTemplate.json']);
      expect(['{}', big]).toContain(await store.get('vaccineCertificateTemplate'));
      await expect.poll(() => watcher.seen.length, { timeout: 1_000, interval: 20 }).toBeGreaterThan(0);
      for (const value of watcher.seen) expect(['{}', big]).toContain(value);
    } finally {
      await store.close();
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('refuses keys that are not plain file names', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'divoc-config-files-'));
    const store = createFileConfigStore({ directory, logger });
    try {
      await expect(store.put('../outside', '{}')).rejects.toThrow(/cannot be used as a file name/);
      await expect(store.get('a/b')).rejects.toThrow(/cannot be used as a file name/);
    } finally {
      await store.close();
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('reports itself unhealthy when its directory is gone', async () => {
    const store = createFileConfigStore({ directory: join(tmpdir(), uniqueName('divoc-missing')), logger });
    await expect(store.health()).rejects.toThrow();
    await store.close();
  });
});

describe('etcd config store', () => {
  it('reports itself unhealthy at once when etcd refuses connections', async () => {
    const store = createEtcdConfigStore({ hosts: ['http://127.0.0.1:1'], logger });
    const started = Date.now();
    await expect(store.health()).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(2_500);
    await store.close();
  });

  it('reports itself unhealthy within about 2 s when etcd accepts connections but never answers', async () => {
    const accepted = new Set<Socket>();
    const silent = createServer((socket) => void accepted.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const port = address && typeof address === 'object' ? address.port : 0;
    const store = createEtcdConfigStore({ hosts: [`http://127.0.0.1:${port}`], logger });
    try {
      const started = Date.now();
      await expect(store.health()).rejects.toThrow(/did not answer/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
      expect(Date.now() - started).toBeLessThan(2_500);
    } finally {
      await store.close();
      for (const socket of accepted) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
