/**
 * The Kafka event bus (production, DESIGN §4/§6) on kafkajs.
 *
 * Producer: acks=all, idempotent, kafkajs' DefaultPartitioner (murmur2 of the key, like the Java client),
 * one `send` per `publish`, connected on first use. A producer whose send failed is replaced: kafkajs
 * rolls its sequence numbers back after a failed request that the broker may still have written, so the
 * next batch could be taken for a duplicate of that one and dropped — a fresh producer id cannot be.
 *
 * Consumer: `eachBatch` without auto-resolve and without auto-commit. A fetched batch is cut into chunks of
 * `maxBatchSize`; a chunk goes to the handler (retried with backoff while it throws), then its dead letters
 * are published, then its offset is committed and resolved — in that order, so a crash at any point means
 * redelivery, never loss. While a handler runs or backs off the consumer keeps heartbeating; when the group
 * starts rebalancing, the member is fenced, or the consumer is stopping, the retry stops and nothing more
 * is committed for that batch, so whoever owns the partition next starts from the last commit.
 */
import {
  type Admin,
  type EachBatchPayload,
  type IHeaders,
  Kafka,
  type Consumer as KafkaConsumer,
  type KafkaMessage,
  type LogEntry,
  logLevel,
  Partitioners,
  type Producer,
} from 'kafkajs';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { BusMessage, ConsumeOptions, Consumer, EventBus, OutgoingMessage, TopicSpec } from './port.js';
import {
  backoffMs,
  busMetrics,
  chunks,
  deliverBatch,
  errorText,
  type ResolvedConsumeOptions,
  resolveConsumeOptions,
  sleep,
  toBuffer,
} from './retry.js';

/** Group-membership timings (kafkajs defaults in brackets); tests make them small to join groups quickly. */
export interface KafkaConsumerTuning {
  /** [30000] The broker drops a member that did not heartbeat for this long. */
  sessionTimeout?: number;
  /** [60000] How long a rebalance waits for members to rejoin (finish their in-flight batch). */
  rebalanceTimeout?: number;
  /** [3000] Heartbeat period, also while a handler runs or backs off. */
  heartbeatInterval?: number;
  /** [25] Longest wait of a fetch for `minBytes` to accumulate. */
  maxWaitTimeInMs?: number;
  /**
   * [65536] A fetch returns once this much is available (or after `maxWaitTimeInMs`): under load,
   * consumers get large batches — one database transaction and one produce request per batch — instead
   * of one message at a time; when idle, a message waits at most `maxWaitTimeInMs`.
   */
  minBytes?: number;
}

export type KafkaLogLevel = 'nothing' | 'error' | 'warn' | 'info' | 'debug';

export interface KafkaBusOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
  metrics?: Registry;
  /**
   * Partition counts set by the deployment (e.g. from configuration), by topic. They take precedence over
   * the counts passed to `ensureTopics`, so an operator can create a topic with more partitions without
   * a code change.
   */
  partitionsByTopic?: Record<string, number>;
  /**
   * Prepended to every topic name and consumer group id on the cluster, so several environments (or test
   * runs) can share one cluster. Callers, handlers, dead-letter headers and metrics see the names without it.
   */
  topicPrefix?: string;
  /** Replication factor of topics created by `ensureTopics` (default 1; 3 on a production cluster). */
  replicationFactor?: number;
  consumer?: KafkaConsumerTuning;
  /** What kafkajs itself logs (default 'warn'). Message keys, values and headers are never logged. */
  logLevel?: KafkaLogLevel;
  /** How long `health()` waits for a broker (default 2000 ms). */
  healthTimeoutMs?: number;
  /** kafkajs connection timeout (default 1000 ms) and request timeout (default 30000 ms). */
  connectionTimeout?: number;
  requestTimeout?: number;
  /** Idempotent producer (default true). */
  idempotent?: boolean;
}

const KAFKAJS_LEVELS: Record<KafkaLogLevel, logLevel> = {
  nothing: logLevel.NOTHING,
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
  debug: logLevel.DEBUG,
};

/**
 * Fields of kafkajs log entries that are passed on, and only when they are scalars. Everything else is
 * dropped: at debug level kafkajs can log whole requests and responses, i.e. message values with personal
 * data (DESIGN §9).
 */
const SAFE_LOG_FIELDS = new Set([
  'broker',
  'clientId',
  'correlationId',
  'duration',
  'error',
  'errorCode',
  'generationId',
  'groupGenerationId',
  'groupId',
  'groupProtocol',
  'host',
  'isLeader',
  'leaderId',
  'memberId',
  'nodeId',
  'offset',
  'partition',
  'port',
  'restart',
  'retriable',
  'retryCount',
  'retryTime',
  'size',
  'stack',
  'topic',
  'type',
]);

/** Routine group-membership chatter that kafkajs reports as warnings or errors. */
const ROUTINE_MESSAGES = [/^Limiting retries for the idempotent producer/, /^The group is rebalancing, re-joining/];
const ROUTINE_ERRORS = /rebalanc|generation id is not valid|not aware of this member|not the correct coordinator/i;

const pinoLevel = (level: logLevel): 'error' | 'warn' | 'info' | 'debug' => {
  switch (level) {
    case logLevel.ERROR:
      return 'error';
    case logLevel.WARN:
      return 'warn';
    case logLevel.INFO:
      return 'info';
    default:
      return 'debug';
  }
};

/** A kafkajs logCreator writing to pino, with an allow-list of fields (no message contents). */
const kafkajsLogCreator =
  (logger: Logger) =>
  () =>
  ({ namespace, level, log }: LogEntry): void => {
    const { message, timestamp: _timestamp, ...extra } = log;
    const fields: Record<string, string | number | boolean> = { kafkajs: namespace };
    for (const [name, value] of Object.entries(extra)) {
      if (!SAFE_LOG_FIELDS.has(name)) continue;
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') fields[name] = value;
      else if (value instanceof Error) fields[name] = errorText(value);
    }
    const text = String(message);
    const routine =
      ROUTINE_MESSAGES.some((pattern) => pattern.test(text)) ||
      (text.startsWith('Response ') && typeof fields.error === 'string' && ROUTINE_ERRORS.test(fields.error));
    logger[routine ? 'debug' : pinoLevel(level)](fields, text);
  };

/** Errors meaning this member no longer owns its partitions (or is about to lose them). */
const GROUP_MEMBERSHIP_ERRORS = new Set([
  'REBALANCE_IN_PROGRESS',
  'ILLEGAL_GENERATION',
  'UNKNOWN_MEMBER_ID',
  'NOT_COORDINATOR_FOR_GROUP',
  'FENCED_INSTANCE_ID',
]);
const isGroupMembershipError = (error: unknown): boolean =>
  typeof error === 'object' &&
  error !== null &&
  'type' in error &&
  typeof error.type === 'string' &&
  GROUP_MEMBERSHIP_ERRORS.has(error.type);

/** A commit that fails for another reason (e.g. coordinator moving) is tried this many times. */
const COMMIT_ATTEMPTS = 5;

const toHeaders = (headers: IHeaders | undefined): Record<string, string> => {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const single = Array.isArray(value) ? value[0] : value;
    if (single !== undefined) result[name] = single.toString();
  }
  return result;
};

const toBusMessage = (topic: string, partition: number, message: KafkaMessage): BusMessage => ({
  topic,
  partition,
  offset: message.offset,
  key: message.key == null ? null : message.key.toString(),
  value: message.value ?? Buffer.alloc(0),
  headers: toHeaders(message.headers),
  timestamp: Number(message.timestamp),
});

/** Rejects with `message` when `promise` has not settled within `ms`. */
const withTimeout = <T>(promise: Promise<T>, ms: number, message: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
    timer.unref();
  });
  promise.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
};

interface ProducerHandle {
  producer: Producer;
  ready: Promise<void>;
  inFlight: number;
  retired: boolean;
  disconnected: boolean;
}

interface Generation {
  lost: AbortController;
  error: unknown;
}

interface LiveConsumer {
  options: ResolvedConsumeOptions;
  stop: () => Promise<void>;
}

export const createKafkaBus = (options: KafkaBusOptions): EventBus => {
  if (options.brokers.length === 0) throw new Error('createKafkaBus: at least one broker is required');
  const logger = options.logger.child({ component: 'bus', adapter: 'kafka' });
  const metrics = busMetrics(options.metrics);
  const replicationFactor = options.replicationFactor ?? 1;
  const healthTimeoutMs = options.healthTimeoutMs ?? 2_000;
  const heartbeatInterval = options.consumer?.heartbeatInterval ?? 3_000;
  const idempotent = options.idempotent ?? true;
  const prefix = options.topicPrefix ?? '';
  const onCluster = (name: string): string => `${prefix}${name}`;
  const fromCluster = (name: string): string => (name.startsWith(prefix) ? name.slice(prefix.length) : name);
  const connection = {
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: options.connectionTimeout ?? 1_000,
    requestTimeout: options.requestTimeout ?? 30_000,
  };
  const kafka = new Kafka({
    ...connection,
    logLevel: KAFKAJS_LEVELS[options.logLevel ?? 'warn'],
    logCreator: kafkajsLogCreator(options.logger.child({ component: 'kafkajs' })),
  });
  // health() must fail fast and quietly (its caller reports the failure): no retries, no kafkajs logs.
  const healthClient = new Kafka({ ...connection, retry: { retries: 0 }, logLevel: logLevel.NOTHING });
  const consumers = new Set<LiveConsumer>();
  /** Set when close() begins: no new consumers. `closed` follows once they stopped (their dead letters sent). */
  let closing = false;
  let closed = false;

  const assertOpen = (): void => {
    if (closed) throw new Error('event bus is closed');
  };

  // --- admin clients: connected on first use, replaced after a failed connect ---------------------------

  interface AdminEntry {
    client: Admin;
    ready: Promise<Admin>;
  }
  const lazyAdmin = (create: () => Admin) => {
    let entry: AdminEntry | undefined;
    return {
      get: (): Promise<Admin> => {
        if (!entry) {
          const client = create();
          const created: AdminEntry = { client, ready: client.connect().then(() => client) };
          entry = created;
          created.ready.catch(() => {
            if (entry === created) entry = undefined;
            client.disconnect().catch(() => undefined);
          });
        }
        return entry.ready;
      },
      close: async (): Promise<void> => {
        const closing = entry;
        entry = undefined;
        if (!closing) return;
        // A connect still retrying against an absent broker is not waited for beyond a second.
        await withTimeout(closing.ready, 1_000, 'admin connect').catch(() => undefined);
        await closing.client.disconnect().catch(() => undefined);
      },
    };
  };
  const admin = lazyAdmin(() => kafka.admin());
  const healthAdmin = lazyAdmin(() => healthClient.admin({ retry: { retries: 0 } }));
  const getAdmin = admin.get;

  // --- producer ---------------------------------------------------------------------------------------

  let current: ProducerHandle | undefined;
  const disconnectIfIdle = (handle: ProducerHandle): void => {
    if (!handle.retired || handle.inFlight > 0 || handle.disconnected) return;
    handle.disconnected = true;
    handle.producer.disconnect().catch((error) => logger.debug({ err: errorText(error) }, 'producer disconnect'));
  };
  const retire = (handle: ProducerHandle): void => {
    handle.retired = true;
    if (current === handle) current = undefined;
    disconnectIfIdle(handle);
  };
  const producerHandle = (): ProducerHandle => {
    if (current) return current;
    const producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
      idempotent,
      // The idempotent producer keeps one request in flight per broker (KIP-98), which also keeps order.
      maxInFlightRequests: 1,
      // Bounded, so that publish rejects (and the API can answer 503) when Kafka is away: ~10 s.
      retry: { retries: 5 },
    });
    const handle: ProducerHandle = {
      producer,
      ready: producer.connect(),
      inFlight: 0,
      retired: false,
      disconnected: false,
    };
    handle.ready.catch(() => retire(handle));
    current = handle;
    return handle;
  };

  /**
   * Publishes are batched the way Kafka's own producers batch: while one produce request is in
   * flight, every publish that arrives waits in the queue, and the next request carries all of them
   * (all topics at once). An idle producer sends at once, so there is no added latency; a busy one
   * sends few large requests instead of many small ones. Order per key is kept: requests go out one
   * at a time and the queue keeps arrival order.
   */
  interface PendingPublish {
    topic: string;
    messages: OutgoingMessage[];
    resolve: () => void;
    reject: (error: Error) => void;
  }
  const queue: PendingPublish[] = [];
  let sending = false;
  const MAX_MESSAGES_PER_REQUEST = 5_000;

  const takeBatch = (): PendingPublish[] => {
    const batch: PendingPublish[] = [];
    let count = 0;
    while (
      queue.length > 0 &&
      (batch.length === 0 || count + (queue[0] as PendingPublish).messages.length <= MAX_MESSAGES_PER_REQUEST)
    ) {
      const next = queue.shift() as PendingPublish;
      count += next.messages.length;
      batch.push(next);
    }
    return batch;
  };

  const sendBatch = async (batch: PendingPublish[]): Promise<void> => {
    const handle = producerHandle();
    handle.inFlight += 1;
    const byTopic = new Map<string, OutgoingMessage[]>();
    for (const item of batch) byTopic.set(item.topic, [...(byTopic.get(item.topic) ?? []), ...item.messages]);
    try {
      await handle.ready;
      await handle.producer.sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([topic, messages]) => ({
          topic: onCluster(topic),
          messages: messages.map((message) => ({
            key: message.key,
            value: toBuffer(message.value),
            headers: message.headers ? { ...message.headers } : {},
          })),
        })),
      });
      for (const [topic, messages] of byTopic) metrics?.published.inc({ topic }, messages.length);
      for (const item of batch) item.resolve();
    } catch (error) {
      retire(handle);
      for (const item of batch) {
        item.reject(
          new Error(`publishing ${item.messages.length} message(s) to ${item.topic} failed: ${errorText(error)}`, {
            cause: error,
          }),
        );
      }
    } finally {
      handle.inFlight -= 1;
      disconnectIfIdle(handle);
    }
  };

  const pump = async (): Promise<void> => {
    if (sending) return;
    sending = true;
    try {
      while (queue.length > 0) await sendBatch(takeBatch());
    } finally {
      sending = false;
    }
  };

  const publish = (topic: string, messages: OutgoingMessage[]): Promise<void> => {
    assertOpen();
    if (messages.length === 0) return Promise.resolve();
    const done = new Promise<void>((resolve, reject) => {
      queue.push({ topic, messages, resolve, reject });
    });
    void pump();
    return done;
  };

  // --- lag --------------------------------------------------------------------------------------------

  const lagOf = async (groupId: string, topics: readonly string[], fromBeginning: boolean): Promise<number> => {
    assertOpen();
    const client = await getAdmin();
    const committed = await client.fetchOffsets({ groupId: onCluster(groupId), topics: topics.map(onCluster) });
    let lag = 0n;
    for (const { topic, partitions } of committed) {
      const watermarks = new Map((await client.fetchTopicOffsets(topic)).map((entry) => [entry.partition, entry]));
      for (const { partition, offset } of partitions) {
        const watermark = watermarks.get(partition);
        if (!watermark) continue;
        const high = BigInt(watermark.high);
        const position = BigInt(offset);
        const from = position >= 0n ? position : fromBeginning ? BigInt(watermark.low) : high;
        if (high > from) lag += high - from;
      }
    }
    return Number(lag);
  };

  const unregisterLag = metrics?.addLagSource(async () => {
    const byGroup = new Map<string, { topics: Set<string>; fromBeginning: boolean }>();
    for (const { options: consumer } of consumers) {
      const entry = byGroup.get(consumer.groupId) ?? { topics: new Set(), fromBeginning: consumer.fromBeginning };
      for (const topic of consumer.topics) entry.topics.add(topic);
      byGroup.set(consumer.groupId, entry);
    }
    const lags = new Map<string, number>();
    await Promise.all(
      [...byGroup].map(async ([groupId, { topics, fromBeginning }]) => {
        try {
          lags.set(groupId, await lagOf(groupId, [...topics], fromBeginning));
        } catch (error) {
          logger.debug({ group: groupId, err: errorText(error) }, 'lag not available');
        }
      }),
    );
    return lags;
  });

  // --- consumer ---------------------------------------------------------------------------------------

  const consume = async (consumeOptions: ConsumeOptions): Promise<Consumer> => {
    assertOpen();
    if (closing) throw new Error('event bus is closing');
    const resolved = resolveConsumeOptions(consumeOptions);
    const { groupId } = resolved;
    const stopping = new AbortController();
    let kafkaConsumer: KafkaConsumer | undefined;
    let restarts = 0;
    /**
     * The current group generation as this consumer sees it, replaced on every join. When one batch learns
     * from a heartbeat that the group is rebalancing (or this member was fenced), every batch of the
     * generation stops retrying: kafkajs rejoins only once all of them have returned.
     */
    let generation: Generation = { lost: new AbortController(), error: undefined };

    /** Commits `offset` (the next one to read) for one partition; see the module comment for failures. */
    const commit = async (payload: EachBatchPayload, offset: string): Promise<void> => {
      const { topic, partition } = payload.batch;
      for (let attempt = 1; ; attempt += 1) {
        try {
          // Straight to the group's offset manager: consumer.commitOffsets() is a silent no-op once
          // stop() has begun, which would lose the commit of the batch a graceful stop waits for.
          await payload.commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset }] }] });
          return;
        } catch (error) {
          if (isGroupMembershipError(error) || attempt >= COMMIT_ATTEMPTS || stopping.signal.aborted) throw error;
          await sleep(backoffMs(resolved.retry, attempt), stopping.signal);
        }
      }
    };

    const eachBatch = async (payload: EachBatchPayload): Promise<void> => {
      const { batch } = payload;
      const current = generation;
      const abort = new AbortController();
      const onAbort = (): void => abort.abort();
      stopping.signal.addEventListener('abort', onAbort, { once: true });
      current.lost.signal.addEventListener('abort', onAbort, { once: true });
      if (stopping.signal.aborted || current.lost.signal.aborted) abort.abort();
      const heartbeats = setInterval(() => {
        payload.heartbeat().catch((error: unknown) => {
          if (isGroupMembershipError(error)) {
            current.error ??= error;
            current.lost.abort();
          } else {
            logger.debug({ group: groupId, err: errorText(error) }, 'heartbeat failed');
          }
        });
      }, heartbeatInterval);
      try {
        const topic = fromCluster(batch.topic);
        const messages = batch.messages.map((message) => toBusMessage(topic, batch.partition, message));
        for (const chunk of chunks(messages, resolved.maxBatchSize)) {
          if (abort.signal.aborted || !payload.isRunning() || payload.isStale()) break;
          const done = await deliverBatch({
            groupId,
            messages: chunk,
            handle: resolved.handle,
            retry: resolved.retry,
            signal: abort.signal,
            publish,
            logger,
            metrics,
          });
          if (!done) break;
          const last = chunk[chunk.length - 1];
          if (!last) break;
          try {
            await commit(payload, (BigInt(last.offset) + 1n).toString());
          } catch (error) {
            if (isGroupMembershipError(error)) {
              current.error ??= error;
              current.lost.abort();
            }
            if (payload.isRunning() && !stopping.signal.aborted) throw error;
            logger.warn(
              { group: groupId, topic, partition: batch.partition, err: errorText(error) },
              'could not commit while stopping; the batch will be delivered again',
            );
            return;
          }
          payload.resolveOffset(last.offset);
          metrics?.consumed.inc({ topic, group: groupId }, chunk.length);
        }
      } finally {
        clearInterval(heartbeats);
        stopping.signal.removeEventListener('abort', onAbort);
        current.lost.signal.removeEventListener('abort', onAbort);
      }
      // Hand the rebalance to kafkajs: it rejoins the group and fetches again from the committed offsets.
      if (current.error !== undefined && payload.isRunning()) throw current.error;
    };

    const start = async (): Promise<void> => {
      const consumer = kafka.consumer({
        groupId: onCluster(groupId),
        allowAutoTopicCreation: false,
        sessionTimeout: options.consumer?.sessionTimeout,
        rebalanceTimeout: options.consumer?.rebalanceTimeout,
        heartbeatInterval,
        maxWaitTimeInMs: options.consumer?.maxWaitTimeInMs ?? 25,
        minBytes: options.consumer?.minBytes ?? 65_536,
      });
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        // kafkajs restarts by itself after retriable errors; after the others it gives up, and a consumer
        // that silently stops is worse than one that keeps trying.
        if (payload.restart || stopping.signal.aborted) return;
        logger.error({ group: groupId, err: errorText(payload.error) }, 'consumer crashed');
        restart();
      });
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        restarts = 0;
        generation = { lost: new AbortController(), error: undefined };
        logger.debug({ group: groupId, memberId: payload.memberId, assignment: payload.memberAssignment }, 'joined');
      });
      kafkaConsumer = consumer;
      try {
        await consumer.connect();
        await consumer.subscribe({ topics: resolved.topics.map(onCluster), fromBeginning: resolved.fromBeginning });
        await consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: resolved.concurrency,
          eachBatch,
        });
      } catch (error) {
        await consumer.disconnect().catch(() => undefined);
        const text = errorText(error);
        const hint = /does not host this topic/i.test(text)
          ? ' (the topic does not exist on these brokers: check KAFKA_BROKERS and KAFKA_TOPIC_PREFIX; the services create their topics when they start)'
          : '';
        throw new Error(`consumer group ${groupId} could not start on ${resolved.topics.join(', ')}: ${text}${hint}`, {
          cause: error,
        });
      }
      if (stopping.signal.aborted) await consumer.disconnect();
    };

    /** Starts a new kafkajs consumer after a backoff, until one starts or the consumer is stopped. */
    const restart = (): void => {
      restarts += 1;
      const waitMs = backoffMs(resolved.retry, restarts);
      logger.warn({ group: groupId, restartInMs: waitMs }, 'restarting the consumer');
      void sleep(waitMs, stopping.signal).then(async (elapsed) => {
        if (!elapsed) return;
        try {
          await start();
        } catch (error) {
          logger.error({ group: groupId, err: errorText(error) }, 'consumer restart failed');
          restart();
        }
      });
    };

    await start();
    let stopped: Promise<void> | undefined;
    const live: LiveConsumer = {
      options: resolved,
      stop: () => {
        stopped ??= (async () => {
          stopping.abort();
          try {
            await kafkaConsumer?.disconnect();
          } finally {
            consumers.delete(live);
          }
        })();
        return stopped;
      },
    };
    consumers.add(live);
    return {
      stop: live.stop,
      lag: () => lagOf(groupId, resolved.topics, resolved.fromBeginning),
    };
  };

  // --- topics, health, close --------------------------------------------------------------------------

  const ensureTopics = async (specs: TopicSpec[]): Promise<void> => {
    assertOpen();
    const wanted = specs.map((spec) => {
      const numPartitions = options.partitionsByTopic?.[spec.topic] ?? spec.partitions;
      if (!spec.topic || !Number.isInteger(numPartitions) || numPartitions < 1) {
        throw new Error(`ensureTopics: ${spec.topic || '(empty name)'} needs a name and a positive partition count`);
      }
      return { topic: onCluster(spec.topic), numPartitions, replicationFactor };
    });
    if (wanted.length === 0) return;
    const client = await getAdmin();
    const existing = new Set(await client.listTopics());
    const missing = wanted.filter((spec) => !existing.has(spec.topic));
    if (missing.length > 0) {
      // Resolves false when they all exist already (another process won the race).
      await client.createTopics({ topics: missing, waitForLeaders: true });
      logger.info({ topics: missing.map((spec) => `${spec.topic}:${spec.numPartitions}`) }, 'topics created');
    }
    const present = wanted.filter((spec) => existing.has(spec.topic));
    if (present.length > 0) {
      const { topics } = await client.fetchTopicMetadata({ topics: present.map((spec) => spec.topic) });
      for (const { name, partitions } of topics) {
        const expected = present.find((spec) => spec.topic === name)?.numPartitions;
        if (expected !== undefined && partitions.length !== expected) {
          logger.warn(
            { topic: name, partitions: partitions.length, expected },
            'topic exists with another partition count',
          );
        }
      }
    }
  };

  const health = async (): Promise<void> => {
    assertOpen();
    await withTimeout(
      (async () => {
        const client = await healthAdmin.get();
        try {
          const cluster = await client.describeCluster();
          if (cluster.brokers.length === 0) throw new Error('Kafka reports no brokers');
        } catch (error) {
          void healthAdmin.close(); // start from a fresh connection next time
          throw error;
        }
      })(),
      healthTimeoutMs,
      `no Kafka broker answered within ${healthTimeoutMs} ms`,
    );
  };

  const close = async (): Promise<void> => {
    if (closing) return;
    closing = true;
    await Promise.allSettled([...consumers].map((consumer) => consumer.stop()));
    closed = true;
    const producer = current;
    current = undefined;
    await Promise.allSettled([producer?.producer.disconnect(), admin.close(), healthAdmin.close()]);
    unregisterLag?.();
  };

  return { publish, consume, ensureTopics, health, close };
};
