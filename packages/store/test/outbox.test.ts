import { createMemoryBus, silentLogger } from '@divoc/platform';
import { uniqueName } from '@divoc/platform/testing';
import { describe, expect, it } from 'vitest';
import { createOutboxRelay, enqueueEvents, type OutboxEvent } from '../src/index.js';
import { useTestDatabase } from './support.js';

/** The transactional outbox on Postgres (`pnpm test:infra`) and PGlite (`pnpm test`). */
const store = useTestDatabase();

const events = (count: number, tag: string): OutboxEvent[] =>
  Array.from({ length: count }, (_, index) => ({
    topic: 'certify',
    key: index % 7 === 0 ? null : `${tag}-${index}`,
    // Quotes, backslashes and non-ASCII: stored and published exactly as given.
    value: JSON.stringify({ index, tag, text: 'Ananya "Anu" \\ Rāghavan 🙂' }),
  }));

const outboxCount = async () =>
  (await store.db.query<{ count: number }>('SELECT count(*)::int AS count FROM outbox')).rows[0]?.count ?? -1;

const clearOutbox = () => store.db.query('DELETE FROM outbox');

/** Collects what the bus delivers on `certify`. */
const collect = async (bus: ReturnType<typeof createMemoryBus>) => {
  const seen: { key: string | null; value: string }[] = [];
  await bus.consume({
    groupId: uniqueName('collector'),
    topics: ['certify'],
    handle: async (messages) => {
      for (const message of messages) seen.push({ key: message.key, value: message.value.toString('utf8') });
      return undefined;
    },
  });
  return seen;
};

const waitFor = async (condition: () => Promise<boolean>, timeoutMs = 5000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

/** An empty outbox, a memory bus and a relay on them (no sweep timer). */
const startRelay = async (options: { deleteDelayMs: number; sweepGraceMs?: number }) => {
  await clearOutbox();
  const bus = createMemoryBus();
  const seen = await collect(bus);
  const relay = createOutboxRelay({ db: store.db, bus, logger: silentLogger(), sweepIntervalMs: 0, ...options });
  return { bus, relay, seen };
};

describe('outbox', () => {
  it('stores events as given and returns their ids in order, also past one statement of rows', async () => {
    await clearOutbox();
    const batch = events(12_000, 'many');
    const ids = await store.db.transaction((tx) => enqueueEvents(tx, batch));
    expect(ids).toHaveLength(batch.length);
    expect(ids.every((id, index) => index === 0 || id > (ids[index - 1] as number))).toBe(true);
    const { rows } = await store.db.query<{ id: number; key: string | null; value: string }>(
      'SELECT id, key, value FROM outbox WHERE id = ANY($1::bigint[]) ORDER BY id',
      [[ids[0], ids[6999], ids[11_999]]],
    );
    expect(rows.map((row) => [row.key, row.value])).toEqual(
      [0, 6999, 11_999].map((index) => [batch[index]?.key, batch[index]?.value]),
    );
  });

  it('publishes committed events, then deletes their rows in one batch shortly after', async () => {
    const { bus, relay, seen } = await startRelay({ deleteDelayMs: 50 });
    const batch = events(30, 'now');
    const ids = await store.db.transaction((tx) => enqueueEvents(tx, batch));
    await relay.publishCommitted(ids, batch);
    await waitFor(async () => seen.length === 30);
    // Partitions are delivered independently: compare as sets.
    const byValue = (a: { value: string }, b: { value: string }) => a.value.localeCompare(b.value);
    expect([...seen].sort(byValue)).toEqual(batch.map(({ key, value }) => ({ key, value })).sort(byValue));
    await waitFor(async () => (await outboxCount()) === 0);
    await relay.stop();
    await bus.close();
  });

  it('deletes what it published when it stops, without waiting for the delay', async () => {
    const { bus, relay } = await startRelay({ deleteDelayMs: 60_000 });
    const batch = events(5, 'stop');
    const ids = await store.db.transaction((tx) => enqueueEvents(tx, batch));
    await relay.publishCommitted(ids, batch);
    expect(await outboxCount()).toBe(5);
    await relay.stop();
    expect(await outboxCount()).toBe(0);
    await bus.close();
  });

  it('sweeps rows a crashed process left, once, and not rows it published itself', async () => {
    const { bus, relay, seen } = await startRelay({ deleteDelayMs: 60_000, sweepGraceMs: 0 });
    // Published by this relay, deletion still pending: the sweep must not publish these again.
    const own = events(3, 'own');
    await relay.publishCommitted(await store.db.transaction((tx) => enqueueEvents(tx, own)), own);
    // Committed by a process that crashed before publishing: 1,200 rows, more than one sweep page.
    const left = events(1200, 'left');
    await store.db.transaction((tx) => enqueueEvents(tx, left));
    expect(await relay.sweep()).toBe(1200);
    await waitFor(async () => seen.length === 1203);
    expect(seen.filter((message) => message.value.includes('"own"'))).toHaveLength(3);
    expect(await relay.sweep()).toBe(0);
    await relay.stop();
    expect(await outboxCount()).toBe(0);
    await bus.close();
  });
});
