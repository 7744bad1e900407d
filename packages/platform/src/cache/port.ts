/**
 * The cache port (DESIGN §4): Redis in production, an in-memory LRU with TTL in embedded mode.
 * A cache is never the source of truth: every caller must work (slower) when it is empty or down.
 */
export interface Cache {
  get(key: string): Promise<Buffer | undefined>;
  /** Stores a value for `ttlSeconds`; `tags` let a group of keys be dropped together (e.g. one certificate's renderings). */
  set(key: string, value: Buffer | string, ttlSeconds: number, tags?: string[]): Promise<void>;
  delete(keys: string[]): Promise<void>;
  /** Drops every key stored with this tag. */
  invalidateTag(tag: string): Promise<void>;
  /** Increments a counter that expires `ttlSeconds` after it is created; returns the new value (rate limits). */
  increment(key: string, ttlSeconds: number): Promise<number>;
  health(): Promise<void>;
  close(): Promise<void>;
}
