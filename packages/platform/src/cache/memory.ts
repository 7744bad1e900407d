import type { Cache } from './port.js';

export interface MemoryCacheOptions {
  /** Most entries kept; the least recently used go first. Default 10 000. */
  maxEntries?: number;
  /** Most bytes kept (values plus keys plus a small overhead per entry). Default 256 MB. */
  maxBytes?: number;
  /** How often expired entries are swept (they are also dropped when read). Default 60 s. */
  sweepIntervalMs?: number;
}

interface Entry {
  value: Buffer;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  tags: readonly string[];
  bytes: number;
}

/** Rough bookkeeping cost of one entry besides its value (Map slot, object, key string). */
const ENTRY_OVERHEAD_BYTES = 96;

const ttlMilliseconds = (ttlSeconds: number): number => {
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new RangeError(`cache TTL must be a positive number of seconds, got ${ttlSeconds}`);
  }
  return Math.max(1, Math.round(ttlSeconds * 1000));
};

/**
 * The embedded cache (DESIGN §4): an in-process LRU with a TTL per entry, tags and expiring counters —
 * the semantics of the Redis adapter. Values are copied in and out, as they would be over the network.
 */
export const createMemoryCache = ({
  maxEntries = 10_000,
  maxBytes = 256 * 1024 * 1024,
  sweepIntervalMs = 60_000,
}: MemoryCacheOptions = {}): Cache => {
  /** Map order is recency order: the first entry is the least recently used. */
  const entries = new Map<string, Entry>();
  const tagged = new Map<string, Set<string>>();
  let bytes = 0;
  let closed = false;

  const remove = (key: string): void => {
    const entry = entries.get(key);
    if (!entry) return;
    entries.delete(key);
    bytes -= entry.bytes;
    for (const tag of entry.tags) {
      const keys = tagged.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) tagged.delete(tag);
    }
  };

  /** The live entry for a key, marked as most recently used; drops it when expired. */
  const touch = (key: string, now = Date.now()): Entry | undefined => {
    const entry = entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= now) {
      remove(key);
      return undefined;
    }
    entries.delete(key);
    entries.set(key, entry);
    return entry;
  };

  const store = (key: string, entry: Entry): void => {
    remove(key);
    if (entry.bytes > maxBytes) return; // larger than the whole cache: not cached at all
    entries.set(key, entry);
    bytes += entry.bytes;
    for (const tag of entry.tags) {
      let keys = tagged.get(tag);
      if (!keys) {
        keys = new Set();
        tagged.set(tag, keys);
      }
      keys.add(key);
    }
    for (const oldest of entries.keys()) {
      if (entries.size <= maxEntries && bytes <= maxBytes) break;
      remove(oldest);
    }
  };

  const sweep = (): void => {
    const now = Date.now();
    for (const [key, entry] of entries) if (entry.expiresAt <= now) remove(key);
  };
  const sweeper = sweepIntervalMs > 0 ? setInterval(sweep, sweepIntervalMs) : undefined;
  sweeper?.unref();

  const open = (): void => {
    if (closed) throw new Error('cache is closed');
  };

  const sizeOf = (key: string, value: Buffer): number => value.length + key.length * 2 + ENTRY_OVERHEAD_BYTES;

  return {
    async get(key) {
      open();
      const entry = touch(key);
      return entry ? Buffer.from(entry.value) : undefined;
    },

    async set(key, value, ttlSeconds, tags = []) {
      open();
      const ttlMs = ttlMilliseconds(ttlSeconds);
      const copy = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
      store(key, { value: copy, expiresAt: Date.now() + ttlMs, tags: [...new Set(tags)], bytes: sizeOf(key, copy) });
    },

    async delete(keys) {
      open();
      for (const key of keys) remove(key);
    },

    async invalidateTag(tag) {
      open();
      for (const key of [...(tagged.get(tag) ?? [])]) remove(key);
      tagged.delete(tag);
    },

    async increment(key, ttlSeconds) {
      open();
      const ttlMs = ttlMilliseconds(ttlSeconds);
      const now = Date.now();
      const entry = touch(key, now);
      let next = 1;
      if (entry) {
        const text = entry.value.toString('utf8');
        if (!/^-?\d+$/.test(text)) throw new Error(`cache value of "${key}" is not an integer`);
        next = Number(text) + 1;
      }
      const value = Buffer.from(String(next), 'utf8');
      // Like INCR: an existing counter keeps its expiry and its tags; a new one expires ttlSeconds from now.
      store(key, {
        value,
        expiresAt: entry ? entry.expiresAt : now + ttlMs,
        tags: entry ? entry.tags : [],
        bytes: sizeOf(key, value),
      });
      return next;
    },

    async health() {
      open();
    },

    async close() {
      closed = true;
      if (sweeper) clearInterval(sweeper);
      entries.clear();
      tagged.clear();
      bytes = 0;
    },
  };
};
