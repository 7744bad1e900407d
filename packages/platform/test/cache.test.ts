import { describe, expect, it } from 'vitest';
import { createMemoryCache } from '../src/cache/memory.js';
import type { Cache } from '../src/cache/port.js';
import { createRedisCache } from '../src/cache/redis.js';
import { silentLogger } from '../src/logging.js';
import { realInfraEnv, uniqueName, useRealInfra } from '../src/testing/infra.js';

const logger = silentLogger();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The adapter under test: Redis (db 15, a unique key prefix) with DIVOC_INFRA=real, else the in-memory LRU. */
const adapters: [string, () => Cache][] = useRealInfra()
  ? [['redis', () => createRedisCache({ url: realInfraEnv().REDIS_URL, prefix: `${uniqueName('cache')}:`, logger })]]
  : [['memory', () => createMemoryCache()]];

describe.each(adapters)('%s cache', (_name, create) => {
  const withCache = async (run: (cache: Cache) => Promise<void>): Promise<void> => {
    const cache = create();
    try {
      await run(cache);
    } finally {
      await cache.close();
    }
  };

  it('returns what was set, as bytes, and nothing for an unknown key', () =>
    withCache(async (cache) => {
      await cache.health();
      expect(await cache.get('certificate:1:pdf')).toBeUndefined();
      const pdf = Buffer.from([0x25, 0x50, 0x44, 0x46, 0x00, 0xff, 0x10]);
      await cache.set('certificate:1:pdf', pdf, 60);
      await cache.set('certificate:1:qr', 'naïve ✓', 60);
      expect(await cache.get('certificate:1:pdf')).toEqual(pdf);
      expect((await cache.get('certificate:1:qr'))?.toString('utf8')).toBe('naïve ✓');

      await cache.set('certificate:1:qr', 'replaced', 60);
      expect((await cache.get('certificate:1:qr'))?.toString('utf8')).toBe('replaced');
      await cache.delete(['certificate:1:pdf', 'certificate:1:qr', 'never-set']);
      expect(await cache.get('certificate:1:pdf')).toBeUndefined();
      expect(await cache.get('certificate:1:qr')).toBeUndefined();
      await cache.delete([]);
    }));

  it('does not let a caller change a cached value through its buffer', () =>
    withCache(async (cache) => {
      const value = Buffer.from('original');
      await cache.set('k', value, 60);
      value.write('mutated!');
      const read = await cache.get('k');
      read?.write('mutated!');
      expect((await cache.get('k'))?.toString()).toBe('original');
    }));

  it('forgets a value when its TTL has passed', () =>
    withCache(async (cache) => {
      await cache.set('short', 'x', 0.3);
      await cache.set('long', 'y', 30);
      expect(await cache.get('short')).toBeDefined();
      await sleep(450);
      expect(await cache.get('short')).toBeUndefined();
      expect((await cache.get('long'))?.toString()).toBe('y');
    }));

  it('refuses a TTL that is not a positive number of seconds', () =>
    withCache(async (cache) => {
      await expect(cache.set('k', 'v', 0)).rejects.toThrow(RangeError);
      await expect(cache.set('k', 'v', Number.NaN)).rejects.toThrow(RangeError);
      await expect(cache.increment('k', -1)).rejects.toThrow(RangeError);
      expect(await cache.get('k')).toBeUndefined();
    }));

  it('drops every key stored with a tag, and only those', () =>
    withCache(async (cache) => {
      await cache.set('cert:A:pdf', 'a-pdf', 60, ['cert:A']);
      await cache.set('cert:A:qr', 'a-qr', 60, ['cert:A', 'qr']);
      await cache.set('cert:B:qr', 'b-qr', 60, ['cert:B', 'qr']);
      await cache.set('untagged', 'u', 60);

      await cache.invalidateTag('cert:A');
      expect(await cache.get('cert:A:pdf')).toBeUndefined();
      expect(await cache.get('cert:A:qr')).toBeUndefined();
      expect((await cache.get('cert:B:qr'))?.toString()).toBe('b-qr');
      expect((await cache.get('untagged'))?.toString()).toBe('u');

      await cache.invalidateTag('qr');
      expect(await cache.get('cert:B:qr')).toBeUndefined();
      expect((await cache.get('untagged'))?.toString()).toBe('u');
      await cache.invalidateTag('never-used');

      // A tag applies to values stored after an invalidation too.
      await cache.set('cert:A:pdf', 'a-pdf-2', 60, ['cert:A']);
      await cache.invalidateTag('cert:A');
      expect(await cache.get('cert:A:pdf')).toBeUndefined();
    }));

  it('keeps a tag as long as its longest-lived key', () =>
    withCache(async (cache) => {
      await cache.set('brief', 'b', 0.2, ['cert:C']);
      await cache.set('lasting', 'l', 30, ['cert:C']);
      await sleep(350);
      expect(await cache.get('brief')).toBeUndefined();
      expect(await cache.get('lasting')).toBeDefined();
      await cache.invalidateTag('cert:C');
      expect(await cache.get('lasting')).toBeUndefined();
    }));

  it('counts, and starts again from 1 once the counter has expired', () =>
    withCache(async (cache) => {
      expect(await cache.increment('rate:10.0.0.1', 0.5)).toBe(1);
      expect(await cache.increment('rate:10.0.0.1', 0.5)).toBe(2);
      expect(await cache.increment('rate:10.0.0.2', 0.5)).toBe(1);
      await sleep(250);
      // A later increment does not push the expiry back: the window is fixed at the first increment.
      expect(await cache.increment('rate:10.0.0.1', 0.5)).toBe(3);
      await sleep(400);
      expect(await cache.increment('rate:10.0.0.1', 0.5)).toBe(1);
      expect((await cache.get('rate:10.0.0.1'))?.toString()).toBe('1');
    }));

  it('counts correctly under concurrent increments', () =>
    withCache(async (cache) => {
      const results = await Promise.all(Array.from({ length: 50 }, () => cache.increment('rate:burst', 30)));
      expect([...results].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, index) => index + 1));
    }));

  it('rejects calls once closed', async () => {
    const cache = create();
    await cache.set('k', 'v', 60);
    await cache.close();
    await expect(cache.get('k')).rejects.toThrow();
    await cache.close();
  });
});

describe('memory cache', () => {
  it('evicts the least recently used entry beyond maxEntries', async () => {
    const cache = createMemoryCache({ maxEntries: 3 });
    await cache.set('a', 'a', 60);
    await cache.set('b', 'b', 60, ['letters']);
    await cache.set('c', 'c', 60);
    await cache.get('a'); // a is now more recent than b
    await cache.set('d', 'd', 60);

    expect(await cache.get('b')).toBeUndefined();
    expect((await cache.get('a'))?.toString()).toBe('a');
    expect((await cache.get('c'))?.toString()).toBe('c');
    expect((await cache.get('d'))?.toString()).toBe('d');

    await cache.increment('counter', 60); // counters are entries too
    expect(await cache.get('a')).toBeUndefined();
    await cache.close();
  });

  it('evicts the least recently used entries beyond maxBytes, and never stores a value larger than the cache', async () => {
    const cache = createMemoryCache({ maxBytes: 2_500 });
    const kilobyte = Buffer.alloc(1_000, 1);
    await cache.set('first', kilobyte, 60);
    await cache.set('second', kilobyte, 60);
    expect(await cache.get('first')).toBeDefined();
    await cache.set('third', kilobyte, 60);

    expect(await cache.get('second')).toBeUndefined();
    expect(await cache.get('first')).toBeDefined();
    expect(await cache.get('third')).toBeDefined();

    await cache.set('first', Buffer.alloc(3_000), 60);
    expect(await cache.get('first')).toBeUndefined();
    expect(await cache.get('third')).toBeDefined();
    await cache.close();
  });

  it('forgets the tags of an evicted entry', async () => {
    const cache = createMemoryCache({ maxEntries: 1 });
    await cache.set('old', 'o', 60, ['t']);
    await cache.set('new', 'n', 60);
    await cache.invalidateTag('t');
    expect((await cache.get('new'))?.toString()).toBe('n');
    await cache.close();
  });
});

describe('redis cache', () => {
  it('fails fast instead of queueing when Redis is unreachable', async () => {
    const cache = createRedisCache({ url: 'redis://127.0.0.1:1/15', logger, connectTimeoutMs: 1_000 });
    try {
      const first = Date.now();
      await expect(cache.get('k')).rejects.toThrow();
      expect(Date.now() - first).toBeLessThan(1_500);

      const later = Date.now();
      await expect(cache.set('k', 'v', 60)).rejects.toThrow();
      await expect(cache.increment('k', 60)).rejects.toThrow();
      await expect(cache.health()).rejects.toThrow();
      expect(Date.now() - later).toBeLessThan(200);
    } finally {
      await cache.close();
    }
  });
});
