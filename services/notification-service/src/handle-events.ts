import { createHash } from 'node:crypto';
import {
  CERTIFIED_TEMPLATE,
  CertifiedEvent,
  dlqTopic,
  NOTIFICATION_ID_HEADER,
  NotifyEvent,
  REVOKED_TEMPLATE,
  RevokedEvent,
  TOPICS,
} from '@divoc/contracts';
import {
  type BusMessage,
  DEAD_LETTER_HEADERS,
  type EventBus,
  type HandleResult,
  type Logger,
  type OutgoingMessage,
} from '@divoc/platform';
import type { Deliverer, Delivery } from './deliver.js';

/** Headers a dead letter of a certified or revoked notification adds: where the event came from. */
export const SOURCE_HEADERS = {
  topic: 'divoc-source-topic',
  partition: 'divoc-source-partition',
  offset: 'divoc-source-offset',
} as const;

/** What one consumed message asks for. */
interface Request {
  deliveries: Delivery[];
  /** A disabled channel: skipped for certified/revoked (the operator turned it off), a failure for notify. */
  whenDisabled: 'skip' | 'fail';
}

const DEDUPE_KEY = /^(certified|revoked|notify):[A-Za-z0-9._:-]{1,160}$/;

const describeIssue = (topic: string, issue: { path: PropertyKey[]; message: string } | undefined): string =>
  `not a ${topic} event: ${issue ? `${issue.path.map(String).join('.') || '(root)'} ${issue.message}` : 'invalid'}`;

const isoDate = (timestamp: string): string => timestamp.slice(0, 10);

/** Parses a message into the messages it asks for, or says why it never can. */
const requestOf = (message: BusMessage): Request | string => {
  let json: unknown;
  try {
    json = JSON.parse(message.value.toString('utf8'));
  } catch {
    return 'the message is not JSON';
  }
  if (message.topic === TOPICS.certified) {
    const parsed = CertifiedEvent.safeParse(json);
    if (!parsed.success) return describeIssue(message.topic, parsed.error.issues[0]);
    const event = parsed.data;
    const data: Record<string, string | number> = {
      name: event.name,
      product: event.product,
      certificateId: event.certificateId,
      preEnrollmentCode: event.preEnrollmentCode,
      dose: event.dose,
      issuedAt: isoDate(event.issuedAt),
      ...(event.programId === undefined ? {} : { programId: event.programId }),
      ...(event.totalDoses === undefined ? {} : { totalDoses: event.totalDoses }),
    };
    return {
      deliveries: [...new Set(event.contact)].map((recipient) => ({
        dedupeKey: `certified:${event.certificateId}`,
        sourceTopic: message.topic,
        recipient,
        template: CERTIFIED_TEMPLATE,
        data,
      })),
      whenDisabled: 'skip',
    };
  }
  if (message.topic === TOPICS.revoked) {
    const parsed = RevokedEvent.safeParse(json);
    if (!parsed.success) return describeIssue(message.topic, parsed.error.issues[0]);
    const event = parsed.data;
    const data = {
      certificateId: event.certificateId,
      preEnrollmentCode: event.preEnrollmentCode,
      dose: event.dose,
      reason: event.reason,
      revokedAt: isoDate(event.revokedAt),
    };
    return {
      deliveries: [...new Set(event.contact ?? [])].map((recipient) => ({
        dedupeKey: `revoked:${event.certificateId}`,
        sourceTopic: message.topic,
        recipient,
        template: REVOKED_TEMPLATE,
        data,
      })),
      whenDisabled: 'skip',
    };
  }
  if (message.topic === TOPICS.notify) {
    const parsed = NotifyEvent.safeParse(json);
    if (!parsed.success) return describeIssue(message.topic, parsed.error.issues[0]);
    const id = message.headers[NOTIFICATION_ID_HEADER];
    const dedupeKey =
      id !== undefined && DEDUPE_KEY.test(id)
        ? id
        : `notify:${createHash('sha256').update(message.value).digest('hex').slice(0, 32)}`;
    return {
      deliveries: [{ dedupeKey, sourceTopic: message.topic, ...parsed.data }],
      whenDisabled: 'fail',
    };
  }
  return `the notification service does not handle topic ${message.topic}`;
};

/**
 * The dead letter of a delivery that failed: a `notify` event for exactly that recipient and template
 * (with the id of the delivery-log row), so `divoc dlq replay notify` retries that message and nothing
 * else — not the whole certified event, which other services consume too. For a message consumed from
 * `notify` it is the original message, as the bus would have dead-lettered it.
 */
const deadLetterOf = (message: BusMessage, delivery: Delivery, reason: string, attempts: number): OutgoingMessage => {
  const fromNotify = message.topic === TOPICS.notify;
  const value = fromNotify
    ? message.value
    : JSON.stringify({ recipient: delivery.recipient, template: delivery.template, data: delivery.data });
  return {
    key: delivery.recipient,
    value,
    headers: {
      ...(fromNotify ? message.headers : {}),
      [NOTIFICATION_ID_HEADER]: delivery.dedupeKey,
      [DEAD_LETTER_HEADERS.topic]: TOPICS.notify,
      [DEAD_LETTER_HEADERS.partition]: String(message.partition),
      [DEAD_LETTER_HEADERS.offset]: message.offset,
      [DEAD_LETTER_HEADERS.error]: reason.slice(0, 4_000),
      [DEAD_LETTER_HEADERS.attempts]: String(Math.max(1, attempts)),
      [DEAD_LETTER_HEADERS.failedAt]: new Date().toISOString(),
      [SOURCE_HEADERS.topic]: message.topic,
      [SOURCE_HEADERS.partition]: String(message.partition),
      [SOURCE_HEADERS.offset]: message.offset,
    },
  };
};

/** Runs `work` on every item, at most `limit` at a time; settles all before reporting the first error. */
const forEachLimited = async <T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>) => {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async () => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      try {
        await work(item);
      } catch (error) {
        errors.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length > 0) throw errors[0];
};

export interface EventHandlerDeps {
  bus: EventBus;
  logger: Logger;
  deliver: Deliverer;
  /** Messages of one batch handled at the same time. */
  parallelSends: number;
}

/**
 * Handles a batch of `certified`, `revoked` and `notify` messages of one partition. Each message becomes
 * one delivery per recipient; deliveries that failed for good are published to `notify.dlq` before the
 * batch is committed. A message that is not a valid event goes to `<topic>.dlq` through the bus. When
 * something is only temporarily impossible (database down, a row held by another worker, shutting down)
 * the handler throws after the rest of the batch is done, and the bus delivers the batch again — rows
 * already sent are skipped then.
 */
export const createEventHandler =
  ({ bus, logger, deliver, parallelSends }: EventHandlerDeps) =>
  async (messages: BusMessage[]): Promise<HandleResult> => {
    const failed: NonNullable<HandleResult['failed']> = [];
    const letters: OutgoingMessage[] = [];
    let firstError: unknown;
    try {
      await forEachLimited(messages, parallelSends, async (message) => {
        const request = requestOf(message);
        if (typeof request === 'string') {
          failed.push({ message, error: request });
          logger.warn({ topic: message.topic, offset: message.offset, err: request }, 'invalid event; dead-lettered');
          return;
        }
        for (const delivery of request.deliveries) {
          const outcome = await deliver(delivery, request.whenDisabled);
          if (outcome.status === 'failed')
            letters.push(deadLetterOf(message, delivery, outcome.reason, outcome.attempts));
        }
      });
    } catch (error) {
      firstError = error;
    }
    // Published even when part of the batch must be retried: those rows are already marked failed.
    if (letters.length > 0) await bus.publish(dlqTopic(TOPICS.notify), letters);
    if (firstError !== undefined) throw firstError;
    return { failed };
  };
