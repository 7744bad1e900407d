import { createHash } from 'node:crypto';
import { type ApiVersion, type CertificateKind, type CertifyEvent, TOPICS } from '@divoc/contracts';
import { type Database, HttpError, type Logger, type Principal, uuidv7 } from '@divoc/platform';
import {
  enqueueEvents,
  findIdempotentResponse,
  insertRequests,
  type OutboxRelay,
  saveIdempotentResponse,
} from '@divoc/store';
import { createGroupCommitter } from './group-commit.js';

/** The answer to a certify or update call: one request id per item, in order. */
export interface AcceptedBatch {
  requests: { requestId: string; preEnrollmentCode: string; dose?: number | undefined }[];
}

export interface BatchItem {
  payload: { preEnrollmentCode: string } & Record<string, unknown>;
  dose?: number | undefined;
  previousCertificateId?: string | undefined;
}

export interface AcceptOptions {
  operation: 'certify' | 'update';
  kind: CertificateKind;
  apiVersion: ApiVersion;
  items: readonly BatchItem[];
  principal: Principal;
  idempotencyKey?: string | undefined;
  /** The body as received, hashed to tell a retry from a different call reusing a key. */
  body: unknown;
}

export interface Acceptor {
  accept(options: AcceptOptions): Promise<AcceptedBatch>;
}

const sha256 = (value: unknown): string => createHash('sha256').update(JSON.stringify(value)).digest('hex');

class IdempotencyConflict extends Error {}

const reused = () =>
  new HttpError(
    422,
    'IDEMPOTENCY_KEY_REUSED',
    'this Idempotency-Key was already used with a different request body; use a new key for a new request',
  );

/**
 * Accepts a whole, already validated batch: the ledger rows, the `certify` events (in the outbox)
 * and the Idempotency-Key answer are committed in one transaction — all or nothing — and only then
 * published. A retry with the same key returns the first answer.
 */
export const createAcceptor = ({
  db,
  relay,
  logger,
}: {
  db: Database;
  relay: OutboxRelay;
  logger: Logger;
}): Acceptor => {
  const committer = createGroupCommitter({ db, relay, logger });
  return {
    async accept({ operation, kind, apiVersion, items, principal, idempotencyKey, body }) {
      const bodyHash = idempotencyKey === undefined ? '' : sha256(body);
      if (idempotencyKey !== undefined) {
        const earlier = await findIdempotentResponse(db, principal.actor, idempotencyKey);
        if (earlier !== undefined) {
          if (earlier.bodySha256 !== bodyHash) throw reused();
          return earlier.response as AcceptedBatch;
        }
      }
      const receivedAt = new Date();
      const requests = items.map((item) => ({ requestId: uuidv7(receivedAt.getTime()), item }));
      const response: AcceptedBatch = {
        requests: requests.map(({ requestId, item }) => ({
          requestId,
          preEnrollmentCode: item.payload.preEnrollmentCode,
          ...(item.dose === undefined ? {} : { dose: item.dose }),
        })),
      };
      const events = requests.map(({ requestId, item }) => {
        const event: CertifyEvent = {
          requestId,
          operation,
          kind,
          apiVersion,
          payload: item.payload,
          ...(item.previousCertificateId ? { previousCertificateId: item.previousCertificateId } : {}),
          actor: principal.actor,
          receivedAt: receivedAt.toISOString(),
        };
        return { topic: TOPICS.certify, key: item.payload.preEnrollmentCode, value: JSON.stringify(event) };
      });

      const ledgerRows = requests.map(({ requestId, item }) => ({
        requestId,
        operation,
        kind,
        apiVersion,
        preEnrollmentCode: item.payload.preEnrollmentCode,
        dose: item.dose,
        actor: principal.actor,
        receivedAt,
      }));
      // Without a key, many calls share one transaction; with one, the key is stored in the same
      // transaction as the requests, so a concurrent retry sees either nothing or everything.
      if (idempotencyKey === undefined) {
        await committer.commit(ledgerRows, events);
        return response;
      }

      let ids: number[];
      try {
        ids = await db.transaction(async (tx) => {
          if (idempotencyKey !== undefined) {
            const saved = await saveIdempotentResponse(
              tx,
              principal.actor,
              idempotencyKey,
              bodyHash,
              response,
              receivedAt,
            );
            if (!saved) throw new IdempotencyConflict();
          }
          await insertRequests(tx, ledgerRows);
          return enqueueEvents(tx, events);
        });
      } catch (error) {
        // Another call with the same key committed first: answer what it answered.
        if (error instanceof IdempotencyConflict && idempotencyKey !== undefined) {
          const winner = await findIdempotentResponse(db, principal.actor, idempotencyKey);
          if (winner === undefined) throw error;
          if (winner.bodySha256 !== bodyHash) throw reused();
          return winner.response as AcceptedBatch;
        }
        throw error;
      }
      try {
        await relay.publishCommitted(ids, events);
      } catch (error) {
        // Committed means accepted: the outbox sweep publishes what could not be published now.
        logger.warn({ err: error, count: events.length }, 'publishing accepted requests failed; the outbox will retry');
      }
      return response;
    },
  };
};

/** Queues events through the outbox: committed first, then published (retried if the bus refuses). */
export interface EventPublisher {
  publish(events: readonly { topic: string; key: string | null; value: string }[]): Promise<void>;
}

export const createEventPublisher = ({
  db,
  relay,
  logger,
}: {
  db: Database;
  relay: OutboxRelay;
  logger: Logger;
}): EventPublisher => ({
  async publish(events) {
    const ids = await db.transaction((tx) => enqueueEvents(tx, events));
    try {
      await relay.publishCommitted(ids, events);
    } catch (error) {
      logger.warn({ err: error, count: events.length }, 'publishing failed; the outbox will retry');
    }
  },
});
