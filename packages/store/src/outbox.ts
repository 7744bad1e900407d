import type { Database, EventBus, Logger, Queryable } from '@divoc/platform';

export interface OutboxEvent {
  topic: string;
  key: string | null;
  value: string;
}

interface StoredEvent extends OutboxEvent {
  id: number;
}

/** Rows per INSERT: 3 parameters each, well under Postgres' 65,535 parameters per statement. */
const INSERT_CHUNK = 5_000;

/**
 * Adds events to the outbox inside the caller's transaction; returns their ids, in order. The values
 * go as statement parameters, which Postgres stores as sent — a JSON array parameter would make it
 * parse and unescape every kilobyte-sized event first (a third more backend CPU per event).
 */
export const enqueueEvents = async (tx: Queryable, events: readonly OutboxEvent[]): Promise<number[]> => {
  const ids: number[] = [];
  for (let start = 0; start < events.length; start += INSERT_CHUNK) {
    const chunk = events.slice(start, start + INSERT_CHUNK);
    const { rows } = await tx.query<{ id: number }>(
      `INSERT INTO outbox (topic, key, value) VALUES ${chunk
        .map((_, index) => `($${index * 3 + 1}, $${index * 3 + 2}, $${index * 3 + 3})`)
        .join(', ')} RETURNING id`,
      chunk.flatMap((event) => [event.topic, event.key, event.value]),
    );
    for (const row of rows) ids.push(row.id);
  }
  return ids;
};

export interface OutboxRelay {
  /**
   * Publishes events just committed by this process, then removes them from the outbox. When the
   * bus refuses, the events stay in the outbox and this relay retries them with backoff; the
   * promise rejects so the caller can log it, but the events are not lost either way.
   */
  publishCommitted(ids: readonly number[], events: readonly OutboxEvent[]): Promise<void>;
  /** Publishes whatever is left in the outbox (a crash between commit and publish). */
  sweep(): Promise<number>;
  stop(): Promise<void>;
}

export interface OutboxRelayOptions {
  db: Database;
  bus: EventBus;
  logger: Logger;
  /** How often leftovers of crashed processes are swept (default 5 s); 0 disables the timer. */
  sweepIntervalMs?: number;
  /** Rows younger than this are left to the process that committed them (default 30 s). */
  sweepGraceMs?: number;
  /** First wait before this process retries its own failed publishes (default 500 ms, doubling to 30 s). */
  retryInitialMs?: number;
  /**
   * Published rows are deleted together, at most this long after publication (default 100 ms) or as
   * soon as 1,000 are waiting: one DELETE — one more commit — per call would cost Postgres a third
   * of the outbox's CPU.
   */
  deleteDelayMs?: number;
}

const publishGrouped = async (bus: EventBus, events: readonly OutboxEvent[]): Promise<void> => {
  const byTopic = new Map<string, OutboxEvent[]>();
  for (const event of events) byTopic.set(event.topic, [...(byTopic.get(event.topic) ?? []), event]);
  await Promise.all(
    [...byTopic].map(([topic, list]) =>
      bus.publish(
        topic,
        list.map((event) => ({ key: event.key, value: event.value })),
      ),
    ),
  );
};

const MAX_RETRY_MS = 30_000;
const DELETE_BATCH = 1_000;

/**
 * Publishes outbox events. The happy path publishes right after the commit (no polling delay). If
 * the bus refuses, this process retries its own events with backoff; a periodic sweep publishes rows
 * a crashed process left behind. A row is deleted only after the bus acknowledged it (in batches,
 * shortly after), so an event may be published twice but never lost — consumers are idempotent by
 * request id.
 */
export const createOutboxRelay = ({
  db,
  bus,
  logger,
  sweepIntervalMs = 5000,
  sweepGraceMs = 30_000,
  retryInitialMs = 500,
  deleteDelayMs = 100,
}: OutboxRelayOptions): OutboxRelay => {
  let stopped = false;
  const pending = new Map<number, OutboxEvent>();
  let retryTimer: NodeJS.Timeout | undefined;
  let retryDelay = retryInitialMs;

  // --- deletion of published rows, batched ------------------------------------------------------
  /** Published, not yet deleted. The sweep leaves these alone: publishing them again is pointless. */
  const published = new Set<number>();
  let deleteTimer: NodeJS.Timeout | undefined;
  let deleting: Promise<void> | undefined;

  const deletePublished = async (): Promise<void> => {
    if (deleteTimer !== undefined) clearTimeout(deleteTimer);
    deleteTimer = undefined;
    const ids = [...published];
    if (ids.length === 0) return;
    try {
      await db.query('DELETE FROM outbox WHERE id = ANY($1::bigint[])', [ids]);
      for (const id of ids) published.delete(id);
    } catch (error) {
      // They stay in `published` and go with the next batch; until then the sweep skips them.
      logger.warn({ err: error, count: ids.length }, 'deleting published outbox rows failed; will retry');
      scheduleDelete();
    }
  };
  const flushDeletes = (): Promise<void> => {
    deleting ??= deletePublished().finally(() => {
      deleting = undefined;
    });
    return deleting;
  };
  function scheduleDelete(): void {
    if (deleteTimer !== undefined || stopped) return;
    deleteTimer = setTimeout(() => void flushDeletes(), deleteDelayMs);
    deleteTimer.unref();
  }
  const markPublished = (ids: readonly number[]): void => {
    for (const id of ids) published.add(id);
    if (published.size >= DELETE_BATCH && deleting === undefined) void flushDeletes();
    else scheduleDelete();
  };

  const publishAndDelete = async (ids: readonly number[], events: readonly OutboxEvent[]) => {
    await publishGrouped(bus, events);
    markPublished(ids);
  };

  const scheduleRetry = () => {
    if (retryTimer !== undefined || stopped || pending.size === 0) return;
    retryTimer = setTimeout(async () => {
      retryTimer = undefined;
      const batch = [...pending];
      try {
        await publishAndDelete(
          batch.map(([id]) => id),
          batch.map(([, event]) => event),
        );
        for (const [id] of batch) pending.delete(id);
        retryDelay = retryInitialMs;
        logger.info({ count: batch.length }, 'published events after the bus recovered');
      } catch (error) {
        retryDelay = Math.min(retryDelay * 2, MAX_RETRY_MS);
        logger.warn({ err: error, count: batch.length, retryInMs: retryDelay }, 'events still not published; retrying');
      }
      scheduleRetry();
    }, retryDelay);
    retryTimer.unref();
  };

  let sweeping: Promise<number> | undefined;
  const sweepOnce = async (): Promise<number> => {
    let total = 0;
    for (;;) {
      const { rows } = await db.query<StoredEvent>(
        `SELECT id, topic, key, value FROM outbox WHERE created_at < now() - make_interval(secs => $1)
         ORDER BY id LIMIT 500`,
        [sweepGraceMs / 1000],
      );
      // Rows this process is still retrying or has published (deletion pending) are not foreign.
      const foreign = rows.filter((row) => !pending.has(row.id) && !published.has(row.id));
      if (foreign.length === 0) return total;
      await publishAndDelete(
        foreign.map((row) => row.id),
        foreign,
      );
      // Deleted before the next page is read, or the same rows would come back.
      await flushDeletes();
      total += foreign.length;
    }
  };
  const sweep = () => {
    sweeping ??= sweepOnce().finally(() => {
      sweeping = undefined;
    });
    return sweeping;
  };
  const timer =
    sweepIntervalMs > 0
      ? setInterval(() => {
          sweep().then(
            (count) => count > 0 && logger.warn({ count }, 'published events left in the outbox'),
            (error: unknown) => logger.warn({ err: error }, 'outbox sweep failed; will retry'),
          );
        }, sweepIntervalMs)
      : undefined;
  timer?.unref();

  return {
    async publishCommitted(ids, events) {
      try {
        await publishAndDelete(ids, events);
      } catch (error) {
        ids.forEach((id, index) => {
          pending.set(id, events[index] as OutboxEvent);
        });
        scheduleRetry();
        throw error;
      }
    },
    sweep,
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      if (retryTimer) clearTimeout(retryTimer);
      await sweeping?.catch(() => 0);
      // What was published is deleted now; rows left (database away) are swept by the next start.
      await deleting;
      await flushDeletes();
    },
  };
};
