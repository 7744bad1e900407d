/**
 * Behaviour of the event bus port (DESIGN §6), through the EventBus interface only: the in-process bus in
 * `pnpm test`, Kafka with DIVOC_INFRA=real (scripts/infra/up). Every test uses its own topics and groups.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type BusMessage,
  type ConsumeOptions,
  type Consumer,
  createKafkaBus,
  createMemoryBus,
  DEAD_LETTER_HEADERS,
  type EventBus,
  listDeadLetters,
  type OutgoingMessage,
  REPLAYED_FROM_HEADER,
  replayDeadLetters,
} from '../src/bus/index.js';
import { createLogger } from '../src/logging.js';
import { createMetricsRegistry, type Registry } from '../src/metrics.js';
import { realInfraEnv, uniqueName, useRealInfra } from '../src/testing/infra.js';
import { deleteKafkaTopics } from '../src/testing/kafka-topics.js';

const real = useRealInfra();
const PARTITIONS = 3;
const FAST_RETRY = { initialMs: 20, maxMs: 200 };
const logger = createLogger({ service: 'bus-test', level: process.env.LOG_LEVEL ?? 'silent' });

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const openBus = (options: { metrics?: Registry; brokers?: string[] } = {}): EventBus => {
  const bus = real
    ? createKafkaBus({
        brokers: options.brokers ?? realInfraEnv().KAFKA_BROKERS.split(','),
        clientId: uniqueName('bus-test'),
        logger,
        metrics: options.metrics,
        // Small group timings so that joins, leaves and takeovers take well under a second.
        consumer: { sessionTimeout: 6_000, rebalanceTimeout: 5_000, heartbeatInterval: 300, maxWaitTimeInMs: 100 },
      })
    : createMemoryBus({ partitions: PARTITIONS, logger, metrics: options.metrics });
  cleanups.push(() => bus.close());
  return bus;
};

/** A new topic (and its dead-letter topic) with PARTITIONS partitions, deleted after the test. */
const newTopic = async (bus: EventBus): Promise<string> => {
  const topic = uniqueName('bus-test');
  // Registered first, so it runs after the buses are closed (cleanups run in reverse).
  if (real) {
    cleanups.unshift(async () => {
      await deleteKafkaTopics({ brokers: realInfraEnv().KAFKA_BROKERS.split(','), prefix: topic });
    });
  }
  await bus.ensureTopics([
    { topic, partitions: PARTITIONS },
    { topic: `${topic}.dlq`, partitions: 1 },
  ]);
  return topic;
};

const consume = async (bus: EventBus, options: ConsumeOptions): Promise<Consumer> => {
  const consumer = await bus.consume({ retry: FAST_RETRY, ...options });
  cleanups.push(() => consumer.stop());
  return consumer;
};

interface Body {
  id: string;
  seq: number;
  poison?: boolean;
}

const message = (key: string, seq: number, extra: Partial<Body> = {}): OutgoingMessage => ({
  key,
  value: JSON.stringify({ id: `${key}/${seq}`, seq, ...extra } satisfies Body),
  headers: { 'x-request-id': `req-${key}-${seq}` },
});

const bodyOf = (received: BusMessage): Body => JSON.parse(received.value.toString()) as Body;

const waitFor = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(20);
  }
};

/** A promise with its resolve function, to hold a handler until the test lets it go. */
const gate = () => {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
};

describe(`event bus (${real ? 'Kafka' : 'in-process'})`, () => {
  it('delivers every message with its key, value and headers, in order per key', async () => {
    const bus = openBus();
    const topic = await newTopic(bus);
    const keys = ['alpha', 'bravo', 'charlie', 'delta', 'echo'];
    for (let round = 0; round < 4; round++) {
      await bus.publish(
        topic,
        keys.flatMap((key) => [0, 1, 2].map((i) => message(key, round * 3 + i))),
      );
    }
    const received = new Map<string, BusMessage[]>();
    let batches = 0;
    await consume(bus, {
      groupId: uniqueName('g'),
      topics: [topic],
      maxBatchSize: 5,
      handle: async (messages) => {
        batches += 1;
        expect(messages.length).toBeLessThanOrEqual(5);
        expect(new Set(messages.map((m) => `${m.topic}#${m.partition}`)).size).toBe(1);
        for (const m of messages) received.set(m.key ?? '', [...(received.get(m.key ?? '') ?? []), m]);
        return undefined;
      },
    });
    await waitFor('all 60 messages arrived', () => [...received.values()].flat().length >= 60);

    expect(batches).toBeGreaterThanOrEqual(12);
    for (const key of keys) {
      const forKey = received.get(key) ?? [];
      expect(forKey.map((m) => bodyOf(m).seq)).toEqual([...Array(12).keys()]);
      expect(new Set(forKey.map((m) => m.partition)).size).toBe(1);
      const first = forKey[0];
      expect(first?.topic).toBe(topic);
      expect(first?.headers['x-request-id']).toBe(`req-${key}-0`);
      expect(Math.abs((first?.timestamp ?? 0) - Date.now())).toBeLessThan(60_000);
      const offsets = forKey.map((m) => BigInt(m.offset));
      expect(offsets).toEqual([...offsets].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    }
  });

  it('works through a long backlog in order without starving the rest of the process', async () => {
    const bus = openBus();
    const topic = await newTopic(bus);
    const total = 3_000;
    for (let start = 0; start < total; start += 500) {
      await bus.publish(
        topic,
        Array.from({ length: 500 }, (_, i) => message('busy-key', start + i)),
      );
    }
    const seqs: number[] = [];
    const consumer = await consume(bus, {
      groupId: uniqueName('g'),
      topics: [topic],
      maxBatchSize: 10,
      handle: async (messages) => {
        for (const m of messages) seqs.push(bodyOf(m).seq);
        return undefined;
      },
    });
    let handledWhenTimerFired = -1;
    setTimeout(() => {
      handledWhenTimerFired = seqs.length;
    }, 1);
    await waitFor('the backlog was worked off', () => seqs.length >= total);

    expect(handledWhenTimerFired).toBeGreaterThanOrEqual(0);
    expect(handledWhenTimerFired).toBeLessThan(total);
    expect(seqs).toEqual([...Array(total).keys()]);
    await waitFor('the group committed everything', async () => (await consumer.lag()) === 0);
  });

  it("places a key on the partition Kafka's default partitioner picks", async () => {
    const bus = openBus();
    const topic = await newTopic(bus);
    const keys = Array.from({ length: 12 }, (_, i) => `PEC-${i}-${'x'.repeat(i)}`);
    await bus.publish(
      topic,
      keys.map((key) => message(key, 0)),
    );
    const partitionOf = new Map<string, number>();
    await consume(bus, {
      groupId: uniqueName('g'),
      topics: [topic],
      handle: async (messages) => {
        for (const m of messages) partitionOf.set(m.key ?? '', m.partition);
        return undefined;
      },
    });
    await waitFor('all keys arrived', () => partitionOf.size === keys.length);

    const partitioner = Partitioners.DefaultPartitioner();
    const partitionMetadata = Array.from(
      { length: PARTITIONS },
      (_, partitionId): PartitionMetadata => ({
        partitionId,
        leader: 1,
        partitionErrorCode: 0,
        replicas: [1],
        isr: [1],
      }),
    );
    for (const key of keys) {
      expect(partitionOf.get(key)).toBe(partitioner({ topic, partitionMetadata, message: { key, value: null } }));
    }
  });

  it('retries a throwing handler with the same messages and commits nothing until it succeeds', async () => {
    const metrics = createMetricsRegistry('bus-test', { defaults: false });
    const bus = openBus({ metrics });
    const topic = await newTopic(bus);
    const groupId = uniqueName('g');
    const published = Array.from({ length: 12 }, (_, seq) => message(`key-${seq % 4}`, seq));
    await bus.publish(topic, published);

    // First consumer: the handler fails every time (a database that is down), then the process stops.
    const attempts: string[][] = [];
    const failing = await consume(bus, {
      groupId,
      topics: [topic],
      concurrency: 1,
      retry: { initialMs: 50, maxMs: 5_000 },
      handle: async (messages) => {
        attempts.push(messages.map((m) => `${m.partition}:${m.offset}`));
        throw new Error('database unavailable');
      },
    });
    await waitFor('the first batch was tried three times', () => attempts.length >= 3);
    expect(attempts[1]).toEqual(attempts[0]);
    expect(attempts[2]).toEqual(attempts[0]);
    expect(await failing.lag()).toBe(published.length);
    const stopStarted = Date.now();
    await failing.stop();
    expect(Date.now() - stopStarted).toBeLessThan(3_000);

    // Second consumer, same group: throws twice, then works. Everything arrives, without gaps.
    let calls = 0;
    const handled = new Map<number, bigint[]>();
    const recovering = await consume(bus, {
      groupId,
      topics: [topic],
      handle: async (messages) => {
        calls += 1;
        if (calls <= 2) throw new Error(`transient failure ${calls}`);
        for (const m of messages) handled.set(m.partition, [...(handled.get(m.partition) ?? []), BigInt(m.offset)]);
        return undefined;
      },
    });
    await waitFor('every message was handled', () => [...handled.values()].flat().length >= published.length);
    for (const offsets of handled.values()) expect(offsets).toEqual(offsets.map((_, i) => BigInt(i)));
    await waitFor('the group committed everything', async () => (await recovering.lag()) === 0);
    await recovering.stop();

    // A third consumer of the group sees only what is published after the commits.
    await bus.publish(topic, [message('key-0', 100)]);
    const later: Body[] = [];
    await consume(bus, {
      groupId,
      topics: [topic],
      handle: async (messages) => {
        later.push(...messages.map(bodyOf));
        return undefined;
      },
    });
    await waitFor('the new message arrived', () => later.length >= 1);
    await sleep(300);
    expect(later.map((body) => body.seq)).toEqual([100]);

    const retries = (await metrics.getSingleMetric('divoc_bus_handler_retries_total')?.get())?.values ?? [];
    expect(retries.reduce((sum, { value }) => sum + value, 0)).toBeGreaterThanOrEqual(attempts.length - 1 + 2);
  });

  it('dead-letters the messages a handler rejects, with the reason, and commits the rest', async () => {
    const metrics = createMetricsRegistry('bus-test', { defaults: false });
    const bus = openBus({ metrics });
    const topic = await newTopic(bus);
    const groupId = uniqueName('g');
    const published = Array.from({ length: 9 }, (_, seq) => message(`key-${seq % 3}`, seq, { poison: seq % 4 === 1 }));
    await bus.publish(topic, published);

    const handled: Body[] = [];
    const consumer = await consume(bus, {
      groupId,
      topics: [topic],
      handle: async (messages) => {
        const failed = messages
          .filter((m) => bodyOf(m).poison)
          .map((m) => ({ message: m, error: `payload invalid: seq ${bodyOf(m).seq}` }));
        handled.push(...messages.filter((m) => !bodyOf(m).poison).map(bodyOf));
        return { failed };
      },
    });

    const letters: BusMessage[] = [];
    await consume(bus, {
      groupId: uniqueName('dlq-reader'),
      topics: [`${topic}.dlq`],
      handle: async (messages) => {
        letters.push(...messages);
        return undefined;
      },
    });
    await waitFor('both poison messages were dead-lettered', () => letters.length >= 2);
    await waitFor('the group committed everything', async () => (await consumer.lag()) === 0);

    expect(handled.map((body) => body.seq).sort((a, b) => a - b)).toEqual([0, 2, 3, 4, 6, 7, 8]);
    expect(letters.map((letter) => bodyOf(letter).seq).sort((a, b) => a - b)).toEqual([1, 5]);
    for (const letter of letters) {
      const seq = bodyOf(letter).seq;
      const original = published[seq];
      expect(letter.key).toBe(original?.key);
      expect(letter.value.toString()).toBe(original?.value);
      expect(letter.headers['x-request-id']).toBe(original?.headers?.['x-request-id']);
      expect(letter.headers[DEAD_LETTER_HEADERS.error]).toBe(`payload invalid: seq ${seq}`);
      expect(letter.headers[DEAD_LETTER_HEADERS.topic]).toBe(topic);
      expect(Number(letter.headers[DEAD_LETTER_HEADERS.partition])).toBeGreaterThanOrEqual(0);
      expect(letter.headers[DEAD_LETTER_HEADERS.offset]).toMatch(/^\d+$/);
      expect(letter.headers[DEAD_LETTER_HEADERS.attempts]).toBe('1');
      expect(Date.parse(letter.headers[DEAD_LETTER_HEADERS.failedAt] ?? '')).toBeGreaterThan(Date.now() - 60_000);
    }

    const deadLetters = await metrics.getSingleMetric('divoc_bus_dead_letters_total')?.get();
    expect(deadLetters?.values).toEqual([
      expect.objectContaining({ labels: expect.objectContaining({ topic }), value: 2 }),
    ]);
  });

  it('lists dead letters, and replays each to its topic once with its key and headers', async () => {
    const bus = openBus();
    const topic = await newTopic(bus);
    await bus.publish(topic, [message('a', 0), message('b', 1, { poison: true }), message('c', 2, { poison: true })]);
    // The handler rejects poison until the operator has "fixed" it (here: a flag), as after a config fix.
    let fixed = false;
    const handled: BusMessage[] = [];
    await consume(bus, {
      groupId: uniqueName('g'),
      topics: [topic],
      handle: async (messages) => {
        const failed = fixed
          ? []
          : messages.filter((m) => bodyOf(m).poison).map((m) => ({ message: m, error: 'unknown vaccine' }));
        handled.push(...messages.filter((m) => !failed.some((f) => f.message === m)));
        return { failed };
      },
    });
    await waitFor('the good message was handled', () => handled.length === 1);
    await waitFor(
      'both poison messages were dead-lettered',
      async () => (await listDeadLetters(bus, topic)).length === 2,
    );

    // Partitions fail independently: the dead-letter order across keys is not defined.
    const letters = (await listDeadLetters(bus, topic)).sort((x, y) => String(x.key).localeCompare(String(y.key)));
    expect(letters.map((letter) => [letter.key, letter.error, letter.originalTopic, letter.attempts])).toEqual([
      ['b', 'unknown vaccine', topic, 1],
      ['c', 'unknown vaccine', topic, 1],
    ]);
    expect(letters[0]?.headers).toEqual({ 'x-request-id': 'req-b-1' });

    fixed = true;
    expect(await replayDeadLetters(bus, topic)).toEqual({ replayed: 2 });
    await waitFor('the replayed messages were handled', () => handled.length === 3);
    const replayed = handled.slice(1);
    expect(replayed.map((m) => [m.key, bodyOf(m).seq, m.headers['x-request-id']]).sort()).toEqual([
      ['b', 1, 'req-b-1'],
      ['c', 2, 'req-c-2'],
    ]);
    expect(replayed.every((m) => m.headers[REPLAYED_FROM_HEADER]?.startsWith(`${topic}.dlq@`))).toBe(true);
    expect(replayed.every((m) => m.headers[DEAD_LETTER_HEADERS.error] === undefined)).toBe(true);
    // A second replay finds nothing new; listing still shows the history.
    expect(await replayDeadLetters(bus, topic)).toEqual({ replayed: 0 });
    expect(await listDeadLetters(bus, topic)).toHaveLength(2);
  });

  it('hands uncommitted work to the next consumer of the group after a stop mid-batch, losing nothing', async () => {
    const bus = openBus();
    const topic = await newTopic(bus);
    const groupId = uniqueName('g');
    const total = 30;
    await bus.publish(
      topic,
      Array.from({ length: total }, (_, seq) => message(`pec-${seq % 6}`, seq)),
    );

    // The durable effect of handling a message (a row keyed by its id), applied idempotently.
    const effects = new Map<string, number>();
    const deliveries = new Map<string, number>();
    const apply = (messages: BusMessage[]): void => {
      for (const m of messages) {
        const { id } = bodyOf(m);
        deliveries.set(id, (deliveries.get(id) ?? 0) + 1);
        if (!effects.has(id)) effects.set(id, 1);
      }
    };

    // The first consumer is slow; its third batch is in flight when the process goes down: the batch's
    // effects are durable, but the process dies before the offset is committed.
    let batches = 0;
    const third = gate();
    const released = gate();
    let crashed: string[] = [];
    const first = await consume(bus, {
      groupId,
      topics: [topic],
      maxBatchSize: 4,
      concurrency: 1,
      handle: async (messages) => {
        batches += 1;
        await sleep(50);
        if (batches === 3) {
          third.open();
          await released.opened;
          apply(messages);
          crashed = messages.map((m) => bodyOf(m).id);
          throw new Error('process killed before the commit');
        }
        apply(messages);
        return undefined;
      },
    });
    await third.opened;
    const stopping = first.stop();
    released.open();
    await stopping;
    const effectsBeforeCrash = effects.size;
    expect(crashed.length).toBeGreaterThan(0);
    expect(effectsBeforeCrash).toBeLessThan(total);

    const second = await consume(bus, {
      groupId,
      topics: [topic],
      handle: async (messages) => {
        apply(messages);
        return undefined;
      },
    });
    await waitFor('every message took effect', () => effects.size === total);
    await waitFor('the group committed everything', async () => (await second.lag()) === 0);

    expect([...effects.values()].every((count) => count === 1)).toBe(true);
    for (const id of crashed) expect(deliveries.get(id)).toBe(2);
    const redelivered = [...deliveries].filter(([, count]) => count > 1).map(([id]) => id);
    expect(redelivered.sort()).toEqual([...crashed].sort());
  });

  it('moves partitions from a consumer stuck retrying to one that joins the group', async () => {
    const bus = openBus();
    const topic = await newTopic(bus);
    const groupId = uniqueName('g');
    const total = 24;
    await bus.publish(
      topic,
      Array.from({ length: total }, (_, seq) => message(`pec-${seq % 8}`, seq)),
    );
    const partitions = new Set<number>();
    const handledBy = new Map<string, string[]>();
    const record = (who: string, messages: BusMessage[]): void => {
      for (const m of messages) {
        partitions.add(m.partition);
        handledBy.set(bodyOf(m).id, [...(handledBy.get(bodyOf(m).id) ?? []), who]);
      }
    };

    // The first member cannot make progress (its database is down) until it is told otherwise.
    const recovered = gate();
    let down = true;
    void recovered.opened.then(() => {
      down = false;
    });
    let firstAttempts = 0;
    await consume(bus, {
      groupId,
      topics: [topic],
      retry: { initialMs: 50, maxMs: 200 },
      handle: async (messages) => {
        firstAttempts += 1;
        if (down) throw new Error('database unavailable');
        record('first', messages);
        return undefined;
      },
    });
    await waitFor('the first member is retrying', () => firstAttempts >= 2);

    // A second member joins: the group rebalances although the first is in the middle of retrying.
    await consume(bus, {
      groupId,
      topics: [topic],
      handle: async (messages) => {
        record('second', messages);
        return undefined;
      },
    });
    // Sooner than the rebalance timeout (5 s): the first member gave up its retry, it was not evicted.
    await waitFor(
      'the second member handled its share',
      () => [...handledBy.values()].some((who) => who.includes('second')),
      4_000,
    );
    recovered.open();
    await waitFor('every message was handled', () => handledBy.size === total);

    expect(partitions.size).toBe(PARTITIONS);
    const seconds = [...handledBy.values()].filter((who) => who.includes('second')).length;
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThan(total);
  });

  it('lets a stopping consumer finish and commit its in-flight batch', async () => {
    const bus = openBus();
    const topic = await newTopic(bus);
    const groupId = uniqueName('g');
    await bus.publish(
      topic,
      Array.from({ length: 8 }, (_, seq) => message('one-key', seq)),
    );
    const seen: number[] = [];
    const inFlight = gate();
    const slow = await consume(bus, {
      groupId,
      topics: [topic],
      maxBatchSize: 3,
      handle: async (messages) => {
        inFlight.open();
        await sleep(400);
        seen.push(...messages.map((m) => bodyOf(m).seq));
        return undefined;
      },
    });
    await inFlight.opened;
    await slow.stop();
    expect(seen).toEqual([0, 1, 2]);

    await consume(bus, {
      groupId,
      topics: [topic],
      handle: async (messages) => {
        seen.push(...messages.map((m) => bodyOf(m).seq));
        return undefined;
      },
    });
    await waitFor('the rest arrived', () => seen.length >= 8);
    await sleep(200);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('reports unconsumed messages as lag, per group', async () => {
    const metrics = createMetricsRegistry('bus-test', { defaults: false });
    const bus = openBus({ metrics });
    const topic = await newTopic(bus);
    await bus.publish(
      topic,
      Array.from({ length: 10 }, (_, seq) => message(`key-${seq % 5}`, seq)),
    );
    const release = gate();
    const groupId = uniqueName('blocked');
    const blocked = await consume(bus, {
      groupId,
      topics: [topic],
      handle: async () => {
        await release.opened;
        return undefined;
      },
    });
    expect(await blocked.lag()).toBe(10);

    const gauge = await metrics.getSingleMetric('divoc_bus_consumer_lag')?.get();
    expect(gauge?.values).toContainEqual(
      expect.objectContaining({ labels: expect.objectContaining({ group: groupId }), value: 10 }),
    );

    release.open();
    await waitFor('the blocked group caught up', async () => (await blocked.lag()) === 0);

    await bus.publish(topic, [message('key-0', 10), message('key-1', 11)]);
    const other = await consume(bus, {
      groupId: uniqueName('other'),
      topics: [topic],
      fromBeginning: false,
      handle: async () => undefined,
    });
    expect(await other.lag()).toBe(0);
    await waitFor('the first group caught up again', async () => (await blocked.lag()) === 0);

    const consumed = await metrics.getSingleMetric('divoc_bus_consumed_total')?.get();
    expect(consumed?.values).toContainEqual(
      expect.objectContaining({ labels: expect.objectContaining({ topic, group: groupId }), value: 12 }),
    );
    const publishedTotal = await metrics.getSingleMetric('divoc_bus_published_total')?.get();
    expect(publishedTotal?.values).toContainEqual(
      expect.objectContaining({ labels: expect.objectContaining({ topic }), value: 12 }),
    );
  });

  it('answers health checks while reachable and fails them promptly when not', async () => {
    const bus = openBus();
    await expect(bus.health()).resolves.toBeUndefined();

    const unreachable = real ? openBus({ brokers: ['127.0.0.1:1'] }) : openBus();
    if (!real) await unreachable.close();
    const started = Date.now();
    await expect(unreachable.health()).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});
