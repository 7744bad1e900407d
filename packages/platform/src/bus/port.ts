/**
 * The event bus port (DESIGN §4, §6): Kafka in production, an in-process bus in embedded mode, with
 * the same semantics — at-least-once delivery, offsets committed only after the handler has made its
 * work durable, transient failures retried with backoff, permanent ones dead-lettered with a reason.
 */

/** A message as a consumer receives it. */
export interface BusMessage {
  topic: string;
  partition: number;
  /** Kafka offset as a decimal string (64-bit). */
  offset: string;
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
  /** Milliseconds since the epoch at which the message was appended. */
  timestamp: number;
}

/** A message to publish. Messages with the same key always land on the same partition, in order. */
export interface OutgoingMessage {
  key: string | null;
  value: string | Buffer;
  headers?: Record<string, string>;
}

/** One handler result per batch: messages that can never succeed, dead-lettered with the reason. */
export interface HandleResult {
  failed?: { message: BusMessage; error: string }[];
}

export interface RetryPolicy {
  /** First wait after a thrown (transient) error; doubled up to `maxMs`. */
  initialMs: number;
  maxMs: number;
}

export interface ConsumeOptions {
  groupId: string;
  topics: string[];
  /**
   * Processes messages of ONE partition, in offset order. Resolving means the work is durable: the
   * offsets are committed afterwards (after dead-lettering `failed`). Throwing means "transient":
   * the same messages are retried after a backoff, nothing is committed, nothing is skipped.
   */
  handle: (messages: BusMessage[]) => Promise<HandleResult | undefined>;
  /** Largest number of messages passed to one `handle` call (default 500). */
  maxBatchSize?: number;
  /** Partitions processed at the same time (default 4). */
  concurrency?: number;
  retry?: RetryPolicy;
  /** Start from the oldest retained message when the group has no committed offset (default true). */
  fromBeginning?: boolean;
}

export interface Consumer {
  /** Stops fetching, waits for the in-flight batch, commits what is done, leaves the group. */
  stop(): Promise<void>;
  /** Messages published but not yet committed by this group, over all its partitions. */
  lag(): Promise<number>;
}

export interface TopicSpec {
  topic: string;
  partitions: number;
}

export interface EventBus {
  /** Resolves once every message is durably stored (Kafka: acks=all); rejects if any was not. */
  publish(topic: string, messages: OutgoingMessage[]): Promise<void>;
  consume(options: ConsumeOptions): Promise<Consumer>;
  /** Creates missing topics with the given partition counts (never shrinks or alters existing ones). */
  ensureTopics(topics: TopicSpec[]): Promise<void>;
  /** Resolves when the bus is reachable, rejects otherwise (for /health/ready). */
  health(): Promise<void>;
  close(): Promise<void>;
}

/** The headers a dead letter carries besides the original key and value (DESIGN §6: `<topic>.dlq`). */
export const DEAD_LETTER_HEADERS = {
  topic: 'divoc-original-topic',
  partition: 'divoc-original-partition',
  offset: 'divoc-original-offset',
  error: 'divoc-error',
  attempts: 'divoc-attempts',
  failedAt: 'divoc-failed-at',
} as const;
