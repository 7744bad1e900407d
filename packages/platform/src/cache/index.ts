export { createMemoryCache, type MemoryCacheOptions } from './memory.js';
export type { Cache } from './port.js';
export { createRedisCache, type RedisCacheOptions } from './redis.js';
