import type { Database, Logger, Queryable } from '@divoc/platform';
import { enqueueEvents, insertRequests, type NewRequest, type OutboxEvent, type OutboxRelay } from '@divoc/store';

interface Job {
  requests: NewRequest[];
  events: OutboxEvent[];
  within: ((tx: Queryable) => Promise<void>) | undefined;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export interface GroupCommitter {
  /**
   * Resolves once the requests and their events are committed (and handed to the bus). `within` runs
   * in the same transaction first (a bulk upload records its rows and cursor there); if it throws, the
   * transaction — and every call it carried — fails.
   */
  commit(requests: NewRequest[], events: OutboxEvent[], within?: (tx: Queryable) => Promise<void>): Promise<void>;
}

/** Rows per transaction at most; larger backlogs are split. */
const MAX_ROWS = 2000;

/**
 * Group commit for the gateway: batches accepted while a transaction is in progress are committed
 * together in the next one — one transaction, one outbox insert and one produce request for many
 * HTTP calls. Each call still gets its own answer, and a failed transaction fails exactly the calls
 * it carried (nothing of theirs was committed). An idle gateway commits a batch at once.
 */
export const createGroupCommitter = ({
  db,
  relay,
  logger,
  concurrency = 2,
}: {
  db: Database;
  relay: OutboxRelay;
  logger: Logger;
  /** Transactions in flight at once (each holds a pool connection). */
  concurrency?: number;
}): GroupCommitter => {
  const queue: Job[] = [];
  let active = 0;

  const take = (): Job[] => {
    const jobs: Job[] = [];
    let rows = 0;
    while (queue.length > 0 && (jobs.length === 0 || rows + (queue[0] as Job).requests.length <= MAX_ROWS)) {
      const job = queue.shift() as Job;
      rows += job.requests.length;
      jobs.push(job);
    }
    return jobs;
  };

  const flush = async (jobs: Job[]): Promise<void> => {
    const requests = jobs.flatMap((job) => job.requests);
    const events = jobs.flatMap((job) => job.events);
    let ids: number[];
    try {
      ids = await db.transaction(async (tx) => {
        for (const job of jobs) await job.within?.(tx);
        await insertRequests(tx, requests);
        return enqueueEvents(tx, events);
      });
    } catch (error) {
      for (const job of jobs) job.reject(error);
      return;
    }
    try {
      await relay.publishCommitted(ids, events);
    } catch (error) {
      // Committed means accepted: the relay keeps retrying what the bus refused.
      logger.warn({ err: error, count: events.length }, 'publishing accepted requests failed; the outbox will retry');
    }
    for (const job of jobs) job.resolve();
  };

  const pump = () => {
    while (active < concurrency && queue.length > 0) {
      active++;
      void flush(take()).finally(() => {
        active--;
        pump();
      });
    }
  };

  return {
    commit(requests, events, within) {
      return new Promise<void>((resolve, reject) => {
        queue.push({ requests, events, within, resolve, reject });
        pump();
      });
    },
  };
};
