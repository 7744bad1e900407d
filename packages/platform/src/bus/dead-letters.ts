import { setTimeout as sleep } from 'node:timers/promises';
import { type BusMessage, type Consumer, DEAD_LETTER_HEADERS, type EventBus } from './port.js';
import { deadLetterTopic } from './retry.js';

/** A dead letter as an operator reads it: where the message came from, why and when it failed. */
export interface DeadLetter {
  /** Offset in `<topic>.dlq`. */
  offset: string;
  key: string | null;
  originalTopic: string;
  originalPartition: number;
  originalOffset: string;
  error: string;
  attempts: number;
  failedAt: string;
  value: Buffer;
  /** The original message's own headers (without the dead-letter ones). */
  headers: Record<string, string>;
}

const DEAD_LETTER_HEADER_NAMES = new Set<string>(Object.values(DEAD_LETTER_HEADERS));
/** Set on a replayed message: the dead letter it came from, so a trace links the two. */
export const REPLAYED_FROM_HEADER = 'divoc-replayed-from';

export const readDeadLetter = (message: BusMessage): DeadLetter => {
  const header = (name: string) => message.headers[name] ?? '';
  return {
    offset: message.offset,
    key: message.key,
    originalTopic: header(DEAD_LETTER_HEADERS.topic),
    originalPartition: Number(header(DEAD_LETTER_HEADERS.partition)),
    originalOffset: header(DEAD_LETTER_HEADERS.offset),
    error: header(DEAD_LETTER_HEADERS.error),
    attempts: Number(header(DEAD_LETTER_HEADERS.attempts)),
    failedAt: header(DEAD_LETTER_HEADERS.failedAt),
    value: message.value,
    headers: Object.fromEntries(
      Object.entries(message.headers).filter(([name]) => !DEAD_LETTER_HEADER_NAMES.has(name)),
    ),
  };
};

export interface DeadLetterScanOptions {
  /** Give up (and report what was done) after this long without catching up. Default 120 s. */
  timeoutMs?: number;
}

/** Consumes `<topic>.dlq` with `groupId` until the group has nothing left to read, then stops. */
const drain = async (
  bus: EventBus,
  topic: string,
  groupId: string,
  handle: (messages: BusMessage[]) => Promise<void>,
  { timeoutMs = 120_000 }: DeadLetterScanOptions,
): Promise<void> => {
  const consumer: Consumer = await bus.consume({
    groupId,
    topics: [deadLetterTopic(topic)],
    fromBeginning: true,
    concurrency: 1,
    handle: async (messages) => {
      await handle(messages);
      return undefined;
    },
  });
  const deadline = Date.now() + timeoutMs;
  try {
    while ((await consumer.lag()) > 0) {
      if (Date.now() > deadline) {
        throw new Error(`${deadLetterTopic(topic)} was not drained within ${timeoutMs} ms; run the command again`);
      }
      await sleep(100);
    }
  } finally {
    await consumer.stop();
  }
};

/** The group that remembers which dead letters of a topic were replayed (a second replay skips them). */
export const replayGroup = (topic: string): string => `divoc-dlq-replay.${topic}`;

/**
 * `divoc dlq replay <topic>`: publishes every dead letter of `<topic>.dlq` not yet replayed back to
 * `<topic>` with its key, value and original headers, committing each batch only after it is published.
 * Consumers are idempotent, so a replay interrupted and run again delivers some messages twice, never none.
 */
export const replayDeadLetters = async (
  bus: EventBus,
  topic: string,
  options: DeadLetterScanOptions & { onReplayed?: (letter: DeadLetter) => void } = {},
): Promise<{ replayed: number }> => {
  let replayed = 0;
  await drain(
    bus,
    topic,
    replayGroup(topic),
    async (messages) => {
      const letters = messages.map(readDeadLetter);
      await bus.publish(
        topic,
        letters.map((letter) => ({
          key: letter.key,
          value: letter.value,
          headers: { ...letter.headers, [REPLAYED_FROM_HEADER]: `${deadLetterTopic(topic)}@${letter.offset}` },
        })),
      );
      replayed += letters.length;
      for (const letter of letters) options.onReplayed?.(letter);
    },
    options,
  );
  return { replayed };
};

/** `divoc dlq list <topic>`: every dead letter of the topic (a throwaway group: nothing is marked replayed). */
export const listDeadLetters = async (
  bus: EventBus,
  topic: string,
  options: DeadLetterScanOptions = {},
): Promise<DeadLetter[]> => {
  const letters: DeadLetter[] = [];
  const groupId = `divoc-dlq-list.${topic}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  await drain(bus, topic, groupId, async (messages) => void letters.push(...messages.map(readDeadLetter)), options);
  return letters.sort((a, b) => Number(BigInt(a.offset) - BigInt(b.offset)));
};
