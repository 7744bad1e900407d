import { Redis } from 'ioredis';
import type { Logger } from '../logging.js';
import type { Cache } from './port.js';

export interface RedisCacheOptions {
  /** e.g. `redis://127.0.0.1:6379/0` (REDIS_URL). */
  url: string;
  /** Prepended to every key and tag set, so tests (or several systems on one Redis) stay apart. Default ''. */
  prefix?: string;
  logger: Logger;
  /** A command that gets no reply within this time is rejected. Default 1 s. */
  commandTimeoutMs?: number;
  /** Longest wait for the very first connection; afterwards a disconnected cache fails at once. Default 2 s. */
  connectTimeoutMs?: number;
}

const ttlMilliseconds = (ttlSeconds: number): number => {
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new RangeError(`cache TTL must be a positive number of seconds, got ${ttlSeconds}`);
  }
  return Math.max(1, Math.round(ttlSeconds * 1000));
};

/**
 * SET with expiry, then add the key to each tag set (KEYS[2..]); a tag set lives at least as long as its
 * longest-lived member. Atomic, so an invalidation never sees a value without its tags.
 */
const SET_TAGGED = `
local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
for i = 2, #KEYS do
  redis.call('SADD', KEYS[i], KEYS[1])
  if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
end
return 1`;

/** Deletes every member of a tag set and the set itself, atomically (no set() can slip in between). */
const INVALIDATE_TAG = `
local members = redis.call('SMEMBERS', KEYS[1])
for i = 1, #members, 500 do
  redis.call('DEL', unpack(members, i, math.min(i + 499, #members)))
end
redis.call('DEL', KEYS[1])
return #members`;

/** INCR, and give the counter its expiry when it has none (it was just created). */
const INCREMENT = `
local value = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return value`;

interface CacheScripts {
  divocSetTagged(numberOfKeys: number, ...args: (string | Buffer | number)[]): Promise<number>;
  divocInvalidateTag(tagKey: string): Promise<number>;
  divocIncrement(key: string, ttlMs: number): Promise<number>;
}

const withTimeout = <T>(promise: Promise<T>, ms: number, message: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
};

/**
 * The production cache: Redis through ioredis (DESIGN §4). A cache must never hold a request up: there is no
 * offline queue (a command while disconnected fails at once), commands time out after `commandTimeoutMs`,
 * and callers treat a rejection as a miss. Only the very first connection is waited for, briefly.
 */
export const createRedisCache = ({
  url,
  prefix = '',
  logger,
  commandTimeoutMs = 1_000,
  connectTimeoutMs = 2_000,
}: RedisCacheOptions): Cache => {
  const log = logger.child({ component: 'cache-redis' });
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    commandTimeout: commandTimeoutMs,
    connectTimeout: connectTimeoutMs,
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 2_000),
  });
  redis.defineCommand('divocSetTagged', { lua: SET_TAGGED });
  redis.defineCommand('divocInvalidateTag', { lua: INVALIDATE_TAG, numberOfKeys: 1 });
  redis.defineCommand('divocIncrement', { lua: INCREMENT, numberOfKeys: 1 });
  const scripts = redis as unknown as CacheScripts;

  let everReady = false;
  let down = false;
  redis.on('ready', () => {
    if (down) log.info('cache connection restored');
    everReady = true;
    down = false;
  });
  redis.on('error', (error: Error) => {
    // One line per outage, not one per reconnection attempt.
    if (!down) log.warn({ err: error }, 'cache unavailable; requests go without it until it is back');
    down = true;
  });

  /**
   * Waits for the very first connection (bounded) so a cache used right after start-up works; once it has
   * been up or has failed, never waits: while Redis is down, ioredis rejects each command at once.
   */
  let firstConnection: Promise<void> | undefined;
  const ready = async (): Promise<void> => {
    if (redis.status === 'ready' || everReady || down) return;
    if (redis.status === 'end') throw new Error('cache is closed');
    firstConnection ??= new Promise<void>((resolve) => {
      const settle = (): void => {
        redis.off('ready', settle);
        redis.off('error', settle);
        resolve();
      };
      redis.on('ready', settle);
      redis.on('error', settle);
    });
    await withTimeout(firstConnection, connectTimeoutMs, `cache not reachable within ${connectTimeoutMs} ms`);
  };

  const keyOf = (key: string): string => `${prefix}${key}`;
  const tagKeyOf = (tag: string): string => `${prefix}tag:${tag}`;

  return {
    async get(key) {
      await ready();
      return (await redis.getBuffer(keyOf(key))) ?? undefined;
    },

    async set(key, value, ttlSeconds, tags = []) {
      const ttlMs = ttlMilliseconds(ttlSeconds);
      await ready();
      const tagKeys = [...new Set(tags)].map(tagKeyOf);
      await scripts.divocSetTagged(1 + tagKeys.length, keyOf(key), ...tagKeys, value, ttlMs);
    },

    async delete(keys) {
      if (keys.length === 0) return;
      await ready();
      await redis.del(...keys.map(keyOf));
    },

    async invalidateTag(tag) {
      await ready();
      await scripts.divocInvalidateTag(tagKeyOf(tag));
    },

    async increment(key, ttlSeconds) {
      const ttlMs = ttlMilliseconds(ttlSeconds);
      await ready();
      return Number(await scripts.divocIncrement(keyOf(key), ttlMs));
    },

    async health() {
      await ready();
      await withTimeout(redis.ping(), commandTimeoutMs, `cache did not answer PING within ${commandTimeoutMs} ms`);
    },

    async close() {
      if (redis.status === 'end') return;
      try {
        if (redis.status === 'ready') await withTimeout(redis.quit(), commandTimeoutMs, 'QUIT timed out');
      } catch {
        // closing anyway
      } finally {
        redis.disconnect();
      }
    },
  };
};
