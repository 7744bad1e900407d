/**
 * What both event-bus adapters share (DESIGN §6), so that the in-process bus and Kafka behave the same:
 * the backoff, the delivery of one batch to a handler (retry on throw, dead-letter what it rejects),
 * the shape of a dead letter, the metrics, option defaults and the key → partition hash.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import {
  type BusMessage,
  type ConsumeOptions,
  DEAD_LETTER_HEADERS,
  type HandleResult,
  type OutgoingMessage,
  type RetryPolicy,
} from './port.js';

export const DEFAULT_RETRY: RetryPolicy = { initialMs: 200, maxMs: 30_000 };
export const DEFAULT_MAX_BATCH_SIZE = 500;
export const DEFAULT_CONCURRENCY = 4;

/** The dead-letter topic of a topic (DESIGN §6). */
export const deadLetterTopic = (topic: string): string => `${topic}.dlq`;

/** The wait before retry number `attempt` (1-based): `initialMs`, doubled each time, capped at `maxMs`. */
export const backoffMs = (policy: RetryPolicy, attempt: number): number => {
  const exponent = Math.max(0, Math.min(attempt - 1, 52));
  return Math.min(policy.maxMs, policy.initialMs * 2 ** exponent);
};

/** Waits `ms`; resolves true when the time is up, false as soon as `signal` aborts (never rejects). */
export const sleep = async (ms: number, signal?: AbortSignal): Promise<boolean> => {
  if (signal?.aborted) return false;
  try {
    await delay(ms, undefined, signal ? { signal } : undefined);
    return true;
  } catch {
    return false;
  }
};

/** Consume options with defaults applied and checked. */
export interface ResolvedConsumeOptions extends Required<Omit<ConsumeOptions, 'retry'>> {
  retry: RetryPolicy;
}

export const resolveConsumeOptions = (options: ConsumeOptions): ResolvedConsumeOptions => {
  const resolved: ResolvedConsumeOptions = {
    groupId: options.groupId,
    topics: [...new Set(options.topics)],
    handle: options.handle,
    maxBatchSize: options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE,
    concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
    retry: { ...DEFAULT_RETRY, ...options.retry },
    fromBeginning: options.fromBeginning ?? true,
  };
  if (!resolved.groupId) throw new Error('consume: groupId is required');
  if (resolved.topics.length === 0 || resolved.topics.some((topic) => !topic)) {
    throw new Error('consume: at least one topic is required');
  }
  for (const [name, value] of [
    ['maxBatchSize', resolved.maxBatchSize],
    ['concurrency', resolved.concurrency],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`consume: ${name} must be a positive integer`);
  }
  if (!(resolved.retry.initialMs >= 0 && resolved.retry.maxMs >= resolved.retry.initialMs)) {
    throw new Error('consume: retry needs 0 <= initialMs <= maxMs');
  }
  return resolved;
};

/** Splits `items` into consecutive chunks of at most `size`. */
export const chunks = <T>(items: readonly T[], size: number): T[][] => {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
};

/** A message's value as the bytes that are stored. */
export const toBuffer = (value: string | Buffer): Buffer => (typeof value === 'string' ? Buffer.from(value) : value);

/** The text of whatever was thrown, without the stack (it goes into logs and dead-letter headers). */
export const errorText = (error: unknown): string => {
  if (error instanceof Error) return error.message || error.name;
  return typeof error === 'string' ? error : String(error);
};

/** Header values are strings; a dead-letter reason is kept short enough for any broker. */
const MAX_ERROR_HEADER_LENGTH = 4_000;

/**
 * The dead letter for a message: same key, same value, the original headers plus where it came from,
 * why it failed, after how many handler attempts and when.
 */
export const deadLetter = (message: BusMessage, error: string, attempts: number, now: Date): OutgoingMessage => ({
  key: message.key,
  value: message.value,
  headers: {
    ...message.headers,
    [DEAD_LETTER_HEADERS.topic]: message.topic,
    [DEAD_LETTER_HEADERS.partition]: String(message.partition),
    [DEAD_LETTER_HEADERS.offset]: message.offset,
    [DEAD_LETTER_HEADERS.error]:
      error.length > MAX_ERROR_HEADER_LENGTH ? error.slice(0, MAX_ERROR_HEADER_LENGTH) : error,
    [DEAD_LETTER_HEADERS.attempts]: String(attempts),
    [DEAD_LETTER_HEADERS.failedAt]: now.toISOString(),
  },
});

export interface DeliverBatchContext {
  groupId: string;
  /** Messages of one topic-partition, in offset order. */
  messages: BusMessage[];
  handle: ConsumeOptions['handle'];
  retry: RetryPolicy;
  /** Aborted when the batch must not be retried or committed any more (consumer stopping, partition lost). */
  signal: AbortSignal;
  publish: (topic: string, messages: OutgoingMessage[]) => Promise<void>;
  logger: Logger;
  metrics: BusMetrics | undefined;
}

/**
 * Hands one batch to the handler until it resolves, then dead-letters what it rejected.
 *
 * Resolves true when the batch is done (the handler resolved and every dead letter is published), so the
 * caller may commit past it; false when `signal` aborted first — then nothing may be committed and the
 * batch is delivered again (to this consumer or another member of the group). A thrown handler error is
 * transient: the same batch is retried after `backoffMs`, forever, never skipped.
 */
export const deliverBatch = async (context: DeliverBatchContext): Promise<boolean> => {
  const { messages, signal, logger } = context;
  const first = messages[0];
  if (!first) return true;
  const last = messages[messages.length - 1] ?? first;
  const where = { topic: first.topic, partition: first.partition, from: first.offset, to: last.offset };

  let attempts = 0;
  let result: HandleResult | undefined;
  for (;;) {
    if (signal.aborted) return false;
    attempts += 1;
    try {
      result = (await context.handle(messages)) ?? undefined;
      break;
    } catch (error) {
      if (signal.aborted) return false;
      const waitMs = backoffMs(context.retry, attempts);
      context.metrics?.handlerRetries.inc({ topic: first.topic, group: context.groupId });
      logger.warn(
        { ...where, group: context.groupId, attempt: attempts, retryInMs: waitMs, err: errorText(error) },
        'event handler failed, retrying the batch',
      );
      if (!(await sleep(waitMs, signal))) return false;
    }
  }

  const inBatch = new Set(messages.map((message) => message.offset));
  const failed = (result?.failed ?? []).filter((entry) => {
    const belongs =
      entry.message.topic === first.topic &&
      entry.message.partition === first.partition &&
      inBatch.has(entry.message.offset);
    if (!belongs) {
      logger.error(
        { ...where, failedTopic: entry.message.topic, failedOffset: entry.message.offset },
        'handler reported a failed message that is not in its batch; ignored',
      );
    }
    return belongs;
  });
  if (failed.length === 0) return true;

  const topic = deadLetterTopic(first.topic);
  const now = new Date();
  const letters = failed.map((entry) => deadLetter(entry.message, entry.error, attempts, now));
  // Tried at least once even when stopping: the handler's work is done, so a graceful stop can still
  // commit it; only the retries end with the signal.
  for (let publishAttempt = 1; ; publishAttempt += 1) {
    try {
      await context.publish(topic, letters);
      break;
    } catch (error) {
      if (signal.aborted) return false;
      const waitMs = backoffMs(context.retry, publishAttempt);
      logger.error(
        { ...where, deadLetterTopic: topic, attempt: publishAttempt, retryInMs: waitMs, err: errorText(error) },
        'publishing dead letters failed (does the dead-letter topic exist?), retrying',
      );
      if (!(await sleep(waitMs, signal))) return false;
    }
  }
  context.metrics?.deadLetters.inc({ topic: first.topic }, letters.length);
  for (const entry of failed) {
    logger.warn(
      { topic: first.topic, partition: first.partition, offset: entry.message.offset, deadLetterTopic: topic },
      'message dead-lettered',
    );
  }
  return true;
};

// ---------------------------------------------------------------------------------------------------
// Metrics: registered once per registry, shared by every bus that uses the registry.

export interface BusMetrics {
  published: Counter<'topic'>;
  consumed: Counter<'topic' | 'group'>;
  deadLetters: Counter<'topic'>;
  handlerRetries: Counter<'topic' | 'group'>;
  /** Registers a source of per-group lag, read when the registry is collected; returns the unregister function. */
  addLagSource: (source: LagSource) => () => void;
}

/** Lag per consumer group of one bus. */
export type LagSource = () => Promise<Map<string, number>>;

const metricsByRegistry = new WeakMap<Registry, BusMetrics>();

/** How long a scrape waits for the lag of all groups before reporting what it has. */
const LAG_COLLECT_TIMEOUT_MS = 2_000;

export const busMetrics = (registry: Registry | undefined): BusMetrics | undefined => {
  if (!registry) return undefined;
  const existing = metricsByRegistry.get(registry);
  if (existing) return existing;

  const sources = new Set<LagSource>();
  const registers = [registry];
  const metrics: BusMetrics = {
    published: new Counter({
      name: 'divoc_bus_published_total',
      help: 'Messages published and acknowledged, by topic.',
      labelNames: ['topic'],
      registers,
    }),
    consumed: new Counter({
      name: 'divoc_bus_consumed_total',
      help: 'Messages handled and committed, by topic and consumer group.',
      labelNames: ['topic', 'group'],
      registers,
    }),
    deadLetters: new Counter({
      name: 'divoc_bus_dead_letters_total',
      help: 'Messages moved to <topic>.dlq, by original topic.',
      labelNames: ['topic'],
      registers,
    }),
    handlerRetries: new Counter({
      name: 'divoc_bus_handler_retries_total',
      help: 'Batches retried after the handler threw (transient failures), by topic and consumer group.',
      labelNames: ['topic', 'group'],
      registers,
    }),
    addLagSource: (source) => {
      sources.add(source);
      return () => sources.delete(source);
    },
  };
  new Gauge({
    name: 'divoc_bus_consumer_lag',
    help: 'Messages published but not yet committed, by consumer group (read when scraped).',
    labelNames: ['group'],
    registers,
    async collect() {
      const lags = await Promise.all(
        [...sources].map((source) =>
          Promise.race([source(), delay(LAG_COLLECT_TIMEOUT_MS, new Map<string, number>(), { ref: false })]).catch(
            () => new Map<string, number>(),
          ),
        ),
      );
      this.reset();
      for (const byGroup of lags) for (const [group, lag] of byGroup) this.set({ group }, lag);
    },
  });
  metricsByRegistry.set(registry, metrics);
  return metrics;
};

// ---------------------------------------------------------------------------------------------------
// Partitioning: Kafka's default (murmur2) so that a key lands on the same partition in both adapters.

const MURMUR_SEED = 0x9747b28c;
const MURMUR_M = 0x5bd1e995;

/** Kafka's murmur2 (the Java client's `Utils.murmur2`, as in kafkajs' DefaultPartitioner). */
export const murmur2 = (data: Buffer): number => {
  const length = data.length;
  let h = MURMUR_SEED ^ length;
  const length4 = Math.floor(length / 4);
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k =
      ((data[i4] ?? 0) & 0xff) |
      (((data[i4 + 1] ?? 0) & 0xff) << 8) |
      (((data[i4 + 2] ?? 0) & 0xff) << 16) |
      (((data[i4 + 3] ?? 0) & 0xff) << 24);
    k = Math.imul(k, MURMUR_M);
    k ^= k >>> 24;
    k = Math.imul(k, MURMUR_M);
    h = Math.imul(h, MURMUR_M);
    h ^= k;
  }
  const tail = length & ~3;
  const rest = length % 4;
  if (rest === 3) h ^= ((data[tail + 2] ?? 0) & 0xff) << 16;
  if (rest >= 2) h ^= ((data[tail + 1] ?? 0) & 0xff) << 8;
  if (rest >= 1) {
    h ^= (data[tail] ?? 0) & 0xff;
    h = Math.imul(h, MURMUR_M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, MURMUR_M);
  h ^= h >>> 15;
  return h | 0;
};

/** The partition Kafka's default partitioner picks for a key. */
export const partitionForKey = (key: string, partitions: number): number =>
  (murmur2(Buffer.from(key)) & 0x7fffffff) % partitions;
