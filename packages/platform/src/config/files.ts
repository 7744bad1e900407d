import { randomBytes } from 'node:crypto';
import { type FSWatcher, watch as watchDirectory } from 'node:fs';
import { access, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../logging.js';
import type { ConfigStore } from './port.js';

export interface FileConfigStoreOptions {
  /** Key K is the file `<directory>/K.json` (the layout of `etcd-config/`). */
  directory: string;
  logger: Logger;
  /** Quiet time after the last file-system event before the files are re-read (editors write several times). */
  debounceMs?: number;
  /**
   * Safety net: every watched key is re-read this often even without a file-system event (fs.watch misses
   * events on some mounts, and stops when the directory is replaced). 0 turns it off.
   */
  pollIntervalMs?: number;
}

/** Key names become file names: no separators, no parent references, no hidden files. */
const KEY_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

const assertKey = (key: string): void => {
  if (!KEY_PATTERN.test(key) || key.includes('..')) {
    throw new Error(`configuration key "${key}" cannot be used as a file name`);
  }
};

const isMissing = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && (error as NodeJS.ErrnoException).code === 'ENOENT';

interface KeyWatch {
  key: string;
  onChange: (value: string | undefined) => void;
  /** The content this watcher last saw (undefined = no file). */
  last: string | undefined;
}

/**
 * The embedded configuration store: one JSON file per key in a directory (DESIGN §4). Writes are atomic
 * (temporary file + rename), so a reader never sees half a file; watchers are told about a key only when
 * its content really changed.
 */
export const createFileConfigStore = ({
  directory,
  logger,
  debounceMs = 100,
  pollIntervalMs = 5_000,
}: FileConfigStoreOptions): ConfigStore => {
  const log = logger.child({ component: 'config-files' });
  const watches = new Set<KeyWatch>();
  let watcher: FSWatcher | undefined;
  let debounceTimer: NodeJS.Timeout | undefined;
  let pollTimer: NodeJS.Timeout | undefined;
  let refreshing: Promise<void> = Promise.resolve();
  let closed = false;

  const fileOf = (key: string): string => join(directory, `${key}.json`);

  const read = async (key: string): Promise<string | undefined> => {
    try {
      return await readFile(fileOf(key), 'utf8');
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  };

  /** Re-reads every watched key and reports the ones whose content changed. Runs one at a time, in order. */
  const refresh = (): Promise<void> => {
    refreshing = refreshing.then(async () => {
      for (const entry of [...watches]) {
        if (closed || !watches.has(entry)) continue;
        let value: string | undefined;
        try {
          value = await read(entry.key);
        } catch (error) {
          log.warn({ key: entry.key, err: error }, 'could not read configuration file; will retry');
          continue;
        }
        if (value === entry.last || !watches.has(entry)) continue;
        entry.last = value;
        try {
          entry.onChange(value);
        } catch (error) {
          log.error({ key: entry.key, err: error }, 'configuration watcher failed');
        }
      }
    });
    return refreshing;
  };

  const scheduleRefresh = (): void => {
    if (closed) return;
    if (debounceTimer) clearTimeout(debounceTimer);
    debounceTimer = setTimeout(() => {
      debounceTimer = undefined;
      void refresh();
    }, debounceMs);
  };

  const stopDirectoryWatch = (): void => {
    watcher?.close();
    watcher = undefined;
  };

  /** Watches the directory itself: a file that does not exist yet, a rename onto it, a symlink swap all show up there. */
  const startDirectoryWatch = (): void => {
    if (watcher || closed) return;
    try {
      watcher = watchDirectory(directory, { persistent: false }, () => scheduleRefresh());
      watcher.on('error', (error) => {
        log.warn({ err: error, directory }, 'configuration directory watch failed; falling back to polling');
        stopDirectoryWatch();
      });
    } catch (error) {
      log.warn({ err: error, directory }, 'cannot watch the configuration directory yet; polling');
    }
  };

  const startPolling = (): void => {
    if (pollTimer || pollIntervalMs <= 0) return;
    pollTimer = setInterval(() => {
      startDirectoryWatch();
      void refresh();
    }, pollIntervalMs);
    pollTimer.unref();
  };

  const stopWhenIdle = (): void => {
    if (watches.size > 0) return;
    stopDirectoryWatch();
    if (pollTimer) clearInterval(pollTimer);
    pollTimer = undefined;
    if (debounceTimer) clearTimeout(debounceTimer);
    debounceTimer = undefined;
  };

  return {
    async get(key) {
      assertKey(key);
      return read(key);
    },

    async put(key, value) {
      assertKey(key);
      await mkdir(directory, { recursive: true });
      const temporary = join(directory, `.${key}.json.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
      try {
        await writeFile(temporary, value, 'utf8');
        await rename(temporary, fileOf(key));
      } catch (error) {
        await rm(temporary, { force: true });
        throw error;
      }
    },

    async watch(key, onChange) {
      assertKey(key);
      if (closed) throw new Error('configuration store is closed');
      await mkdir(directory, { recursive: true });
      const entry: KeyWatch = { key, onChange, last: await read(key) };
      watches.add(entry);
      startDirectoryWatch();
      startPolling();
      return () => {
        watches.delete(entry);
        stopWhenIdle();
      };
    },

    async health() {
      await access(directory);
    },

    async close() {
      closed = true;
      watches.clear();
      stopWhenIdle();
      await refreshing;
    },
  };
};
