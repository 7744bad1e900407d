import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Cache } from '../cache/port.js';
import type { Logger } from '../logging.js';
import { HttpError } from './errors.js';

export interface RateLimitOptions {
  cache: Cache;
  /** Requests per client address per window. */
  limit: number;
  windowSeconds: number;
  /** Distinguishes the counters of different endpoints. */
  name: string;
  logger: Logger;
}

/**
 * A fixed-window rate limit per client address, counted in the cache (Redis in production, so all
 * replicas share the count) — for the public endpoints (DESIGN §9). If the cache is unavailable the
 * request is let through: a cache outage must not take verification down.
 */
export const rateLimit =
  ({ cache, limit, windowSeconds, name, logger }: RateLimitOptions) =>
  async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const window = Math.floor(Date.now() / 1000 / windowSeconds);
    let count: number;
    try {
      count = await cache.increment(`rate:${name}:${request.ip}:${window}`, windowSeconds);
    } catch (error) {
      logger.warn({ err: error, limiter: name }, 'rate limit not enforced: cache unavailable');
      return;
    }
    reply.header('x-ratelimit-limit', limit);
    reply.header('x-ratelimit-remaining', Math.max(0, limit - count));
    if (count > limit) {
      const retryAfter = (window + 1) * windowSeconds - Math.floor(Date.now() / 1000);
      reply.header('retry-after', retryAfter);
      throw new HttpError(429, 'RATE_LIMITED', `too many requests from this address; try again in ${retryAfter} s`);
    }
  };
