/**
 * The in-process event bus (embedded mode, DESIGN §4): the semantics of the Kafka adapter without a
 * broker. Topics have partitions (a key always maps to the same one, with Kafka's hash); each consumer
 * group has its own committed offsets; the partitions of a topic are shared among the members of a group
 * as in Kafka; one delivery loop per (group, topic, partition) hands batches to the owning member in
 * offset order, retries a throwing handler with backoff, dead-letters what the handler rejects into
 * `<topic>.dlq` of the same bus, and commits only after all of that. Nothing is persisted: a stopped
 * consumer's uncommitted messages are delivered again to the next member of its group, but the process
 * itself is the durability boundary.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import { pino } from 'pino';
import type { Registry } from 'prom-client';
import type { BusMessage, ConsumeOptions, Consumer, EventBus, OutgoingMessage, TopicSpec } from './port.js';
import {
  type BusMetrics,
  busMetrics,
  deliverBatch,
  partitionForKey,
  type ResolvedConsumeOptions,
  resolveConsumeOptions,
  toBuffer,
} from './retry.js';

export interface MemoryBusOptions {
  /** Partitions of a topic that is used before `ensureTopics` created it (default 4). */
  partitions?: number;
  logger?: Logger;
  metrics?: Registry;
}

interface StoredMessage {
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
  timestamp: number;
}

interface Partition {
  /** The retained messages; `log[i]` has offset `base + i`. */
  readonly log: StoredMessage[];
  base: number;
  /** The delivery loops reading this partition, woken on every append. */
  readonly cursors: Set<Cursor>;
}

interface TopicState {
  readonly partitions: Partition[];
  roundRobin: number;
}

/** A consumer: one member of a group. */
interface Member {
  readonly options: ResolvedConsumeOptions;
  readonly permits: Semaphore;
  /** Deliveries in progress (handler, dead letters, commit), awaited by stop(). */
  readonly inFlight: Set<Promise<void>>;
}

/** The read position of one group on one partition, and the loop that delivers from it. */
interface Cursor {
  readonly topic: string;
  readonly partition: number;
  committed: number;
  owner: Member | null;
  /** Aborted when the owner changes: a retrying batch of the previous owner gives up. */
  ownership: AbortController;
  running: boolean;
  wakeUp: (() => void) | null;
}

interface Group {
  /** In join order; partitions are dealt out round robin, as Kafka's range/round-robin assignors do. */
  members: Member[];
  readonly cursors: Map<string, Cursor[]>;
}

/** Limits how many partitions one consumer processes at the same time (`concurrency`). */
class Semaphore {
  private readonly waiting: (() => void)[] = [];
  constructor(private available: number) {}

  async acquire(): Promise<() => void> {
    if (this.available > 0) {
      this.available -= 1;
    } else {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.available += 1;
    };
  }
}

const endOffset = (partition: Partition): number => partition.base + partition.log.length;

/** Messages every group has committed are dropped in steps of this many (the bus would grow forever). */
const TRIM_STEP = 1_024;

/**
 * Drops the messages that every group reading the partition has committed — the in-process stand-in for
 * Kafka's retention. A partition nobody reads (a dead-letter topic) keeps everything.
 */
const trim = (partition: Partition): void => {
  if (partition.cursors.size === 0) return;
  let committedByAll = Number.POSITIVE_INFINITY;
  for (const cursor of partition.cursors) committedByAll = Math.min(committedByAll, cursor.committed);
  const drop = committedByAll - partition.base;
  if (drop < TRIM_STEP) return;
  partition.log.splice(0, drop);
  partition.base = committedByAll;
};

const wake = (cursor: Cursor): void => {
  const wakeUp = cursor.wakeUp;
  cursor.wakeUp = null;
  wakeUp?.();
};

export const createMemoryBus = (options: MemoryBusOptions = {}): EventBus => {
  const defaultPartitions = options.partitions ?? 4;
  if (!Number.isInteger(defaultPartitions) || defaultPartitions < 1) {
    throw new Error('createMemoryBus: partitions must be a positive integer');
  }
  const logger = (options.logger ?? pino({ level: 'silent' })).child({ component: 'bus', adapter: 'memory' });
  const metrics: BusMetrics | undefined = busMetrics(options.metrics);
  const topics = new Map<string, TopicState>();
  const groups = new Map<string, Group>();
  let closed = false;

  const assertOpen = (): void => {
    if (closed) throw new Error('event bus is closed');
  };

  const topicState = (name: string, partitions = defaultPartitions): TopicState => {
    let state = topics.get(name);
    if (!state) {
      if (!name) throw new Error('topic name must not be empty');
      state = {
        partitions: Array.from({ length: partitions }, () => ({ log: [], base: 0, cursors: new Set<Cursor>() })),
        roundRobin: 0,
      };
      topics.set(name, state);
    }
    return state;
  };

  const lagOf = (group: Group, topicNames?: readonly string[]): number => {
    let lag = 0;
    for (const [topic, cursors] of group.cursors) {
      if (topicNames && !topicNames.includes(topic)) continue;
      const state = topicState(topic);
      for (const cursor of cursors) {
        const partition = state.partitions[cursor.partition];
        if (partition) lag += endOffset(partition) - cursor.committed;
      }
    }
    return lag;
  };

  const unregisterLag = metrics?.addLagSource(async () => {
    const lags = new Map<string, number>();
    for (const [groupId, group] of groups) if (group.members.length > 0) lags.set(groupId, lagOf(group));
    return lags;
  });

  const publish = async (topic: string, messages: OutgoingMessage[]): Promise<void> => {
    assertOpen();
    const state = topicState(topic);
    const count = state.partitions.length;
    const touched = new Set<Partition>();
    const timestamp = Date.now();
    for (const message of messages) {
      const index =
        message.key === null ? state.roundRobin++ % count : partitionForKey(message.key, state.partitions.length);
      const partition = state.partitions[index];
      if (!partition) throw new Error(`no partition ${index} in topic ${topic}`);
      partition.log.push({
        key: message.key,
        value: Buffer.from(toBuffer(message.value)),
        headers: { ...message.headers },
        timestamp,
      });
      touched.add(partition);
    }
    for (const partition of touched) for (const cursor of partition.cursors) wake(cursor);
    metrics?.published.inc({ topic }, messages.length);
  };

  const toBusMessage = (topic: string, partition: number, offset: number, stored: StoredMessage): BusMessage => ({
    topic,
    partition,
    offset: String(offset),
    key: stored.key,
    value: Buffer.from(stored.value),
    headers: { ...stored.headers },
    timestamp: stored.timestamp,
  });

  /** Delivers one partition to whichever member of the group owns it, until nobody does. */
  const runLoop = async (groupId: string, cursor: Cursor): Promise<void> => {
    const partition = topicState(cursor.topic).partitions[cursor.partition];
    if (!partition) return;
    cursor.running = true;
    try {
      for (;;) {
        const owner = cursor.owner;
        if (!owner || closed) return;
        if (cursor.committed >= endOffset(partition)) {
          await new Promise<void>((resolve) => {
            cursor.wakeUp = resolve;
          });
          continue;
        }
        // One batch per turn of the event loop: a long backlog never starves timers and I/O.
        await yieldToEventLoop();
        if (cursor.owner !== owner) continue;
        const release = await owner.permits.acquire();
        if (cursor.owner !== owner) {
          release();
          continue;
        }
        const delivery = (async () => {
          try {
            const start = cursor.committed;
            const batch = partition.log
              .slice(start - partition.base, start - partition.base + owner.options.maxBatchSize)
              .map((stored, index) => toBusMessage(cursor.topic, cursor.partition, start + index, stored));
            const done = await deliverBatch({
              groupId,
              messages: batch,
              handle: owner.options.handle,
              retry: owner.options.retry,
              signal: cursor.ownership.signal,
              publish,
              logger,
              metrics,
            });
            if (done && cursor.committed === start) {
              cursor.committed = start + batch.length;
              metrics?.consumed.inc({ topic: cursor.topic, group: groupId }, batch.length);
              trim(partition);
            }
          } finally {
            release();
          }
        })();
        owner.inFlight.add(delivery);
        try {
          await delivery;
        } catch (error) {
          // deliverBatch never throws; a failing publish of dead letters is retried inside it.
          logger.error({ err: error, topic: cursor.topic, partition: cursor.partition }, 'delivery loop error');
        } finally {
          owner.inFlight.delete(delivery);
        }
      }
    } finally {
      cursor.running = false;
    }
  };

  /** Deals the partitions of every topic of the group out to the members subscribed to it. */
  const rebalance = (groupId: string, group: Group): void => {
    for (const [topic, cursors] of group.cursors) {
      const subscribers = group.members.filter((member) => member.options.topics.includes(topic));
      for (const cursor of cursors) {
        const owner = subscribers.length > 0 ? (subscribers[cursor.partition % subscribers.length] ?? null) : null;
        if (owner === cursor.owner) continue;
        cursor.ownership.abort();
        cursor.ownership = new AbortController();
        cursor.owner = owner;
        wake(cursor);
        if (owner && !cursor.running) {
          void runLoop(groupId, cursor);
        }
      }
    }
  };

  const consume = async (consumeOptions: ConsumeOptions): Promise<Consumer> => {
    assertOpen();
    const resolved = resolveConsumeOptions(consumeOptions);
    const { groupId } = resolved;
    let group = groups.get(groupId);
    if (!group) {
      group = { members: [], cursors: new Map() };
      groups.set(groupId, group);
    }
    for (const topic of resolved.topics) {
      if (group.cursors.has(topic)) continue;
      const state = topicState(topic);
      group.cursors.set(
        topic,
        state.partitions.map((partition, index) => {
          const cursor: Cursor = {
            topic,
            partition: index,
            committed: resolved.fromBeginning ? partition.base : endOffset(partition),
            owner: null,
            ownership: new AbortController(),
            running: false,
            wakeUp: null,
          };
          partition.cursors.add(cursor);
          return cursor;
        }),
      );
    }
    const member: Member = {
      options: resolved,
      permits: new Semaphore(resolved.concurrency),
      inFlight: new Set(),
    };
    group.members.push(member);
    rebalance(groupId, group);
    logger.debug({ group: groupId, topics: resolved.topics }, 'consumer started');

    const joined = group;
    let stopping: Promise<void> | undefined;
    return {
      stop: () => {
        stopping ??= (async () => {
          joined.members = joined.members.filter((candidate) => candidate !== member);
          rebalance(groupId, joined);
          await Promise.allSettled([...member.inFlight]);
          logger.debug({ group: groupId }, 'consumer stopped');
        })();
        return stopping;
      },
      lag: async () => lagOf(joined, resolved.topics),
    };
  };

  return {
    publish,
    consume,
    ensureTopics: async (specs: TopicSpec[]) => {
      assertOpen();
      for (const spec of specs) {
        if (!Number.isInteger(spec.partitions) || spec.partitions < 1) {
          throw new Error(`ensureTopics: ${spec.topic} needs a positive partition count`);
        }
        const state = topicState(spec.topic, spec.partitions);
        if (state.partitions.length !== spec.partitions) {
          logger.warn(
            { topic: spec.topic, partitions: state.partitions.length, expected: spec.partitions },
            'topic exists with another partition count',
          );
        }
      }
    },
    health: async () => {
      assertOpen();
    },
    close: async () => {
      if (closed) return;
      const stops: Promise<void>[] = [];
      for (const [groupId, group] of groups) {
        const inFlight = group.members.flatMap((member) => [...member.inFlight]);
        group.members = [];
        rebalance(groupId, group);
        stops.push(...inFlight);
      }
      await Promise.allSettled(stops);
      closed = true;
      unregisterLag?.();
    },
  };
};
