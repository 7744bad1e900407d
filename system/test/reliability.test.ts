import { type CertificationRequestV2, dlqTopic, TOPICS } from '@divoc/contracts';
import { type BusMessage, createPostgresDatabase, DEAD_LETTER_HEADERS } from '@divoc/platform';
import { useRealInfra } from '@divoc/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flakyPublishBus, interruptibleDatabase, tcpProxy } from './faults.js';
import { eventually, loadFixture, startTestSystem, submitCertify, type TestSystem } from './harness.js';

/**
 * Faults (DESIGN §11): a signer stopped mid-way and restarted, a publish failing after the database
 * commit, a poison message, the database unavailable for a few seconds. In every case each request
 * is issued exactly once and nothing is lost. `pnpm test:infra` runs this against Kafka and a real
 * Postgres outage (a proxy dropping every connection); `pnpm test` against the embedded adapters.
 */
let t: TestSystem;
let api: Awaited<ReturnType<TestSystem['system']['make']['vaccinationApi']>>;
let processor: Awaited<ReturnType<TestSystem['system']['make']['processor']>>;
let staff: string;
let ddcc: CertificationRequestV2[];
type Json = Record<string, any>;

const run = Date.now().toString(36);

const beneficiary = (code: string): Json => ({ ...structuredClone(ddcc[0]), preEnrollmentCode: code });

/** Certifies `count` new beneficiaries in batches of 100; returns the request ids. */
const certifyMany = async (prefix: string, count: number): Promise<string[]> => {
  const ids: string[] = [];
  for (let start = 0; start < count; start += 100) {
    const batch = Array.from({ length: Math.min(100, count - start) }, (_, index) =>
      beneficiary(`${prefix}-${start + index}`),
    );
    ids.push(...(await submitCertify(api.http, staff, batch)));
  }
  return ids;
};

const count = async (sql: string, params: unknown[]) =>
  (await t.adapters.db.query<{ count: number }>(sql, params)).rows[0]?.count ?? 0;

/** Every request issued, each with exactly one certificate. */
const expectIssuedExactlyOnce = async (requestIds: string[], timeoutMs = 90_000) => {
  await eventually(
    async () =>
      (await count(`SELECT count(*)::int AS count FROM requests WHERE request_id = ANY($1) AND status = 'issued'`, [
        requestIds,
      ])) === requestIds.length
        ? true
        : undefined,
    { timeoutMs, intervalMs: 200 },
  );
  expect(await count('SELECT count(*)::int AS count FROM certificates WHERE request_id = ANY($1)', [requestIds])).toBe(
    requestIds.length,
  );
  expect(
    await count(
      'SELECT count(DISTINCT pre_enrollment_code)::int AS count FROM certificates WHERE request_id = ANY($1)',
      [requestIds],
    ),
  ).toBe(requestIds.length);
};

beforeAll(async () => {
  t = await startTestSystem();
  ddcc = await loadFixture('certify-v3-ddcc.json');
  api = await t.system.make.vaccinationApi({ outboxSweepIntervalMs: 0 });
  processor = await t.system.make.processor();
  await processor.start();
  staff = await t.token(['facility-staff']);
});

afterAll(async () => {
  await processor?.stop();
  await api?.stop();
  await t?.close();
});

describe('reliability', () => {
  it('issues each of 1,000 requests exactly once when the signer is stopped mid-way and restarted', async () => {
    const requestIds = await certifyMany(`RESTART-${run}`, 1000);
    // Small batches, so the stop lands in the middle of the work.
    const first = await t.system.make.signer({ batchSize: 10, concurrency: 1 });
    await first.start();
    await eventually(
      async () =>
        (await count('SELECT count(*)::int AS count FROM certificates WHERE request_id = ANY($1)', [requestIds])) > 20
          ? true
          : undefined,
      { timeoutMs: 60_000, intervalMs: 20 },
    );
    await first.stop();
    const issuedBeforeRestart = await count(
      'SELECT count(*)::int AS count FROM certificates WHERE request_id = ANY($1)',
      [requestIds],
    );
    expect(issuedBeforeRestart).toBeLessThan(1000);
    const second = await t.system.make.signer();
    await second.start();
    await expectIssuedExactlyOnce(requestIds);
    await second.stop();
  });

  it('issues exactly once when publishing the acknowledgements fails after the database commit', async () => {
    const requestIds = await certifyMany(`REPUBLISH-${run}`, 50);
    const signer = await t.system.make.signer({ bus: flakyPublishBus(t.adapters.bus, TOPICS.certifyAck, 3) });
    await signer.start();
    await expectIssuedExactlyOnce(requestIds);
    await signer.stop();
  });

  it('dead-letters a poison message with its reason and lets the rest flow on', async () => {
    const dead: BusMessage[] = [];
    const dlq = await t.adapters.bus.consume({
      groupId: `dlq-reader-${run}`,
      topics: [dlqTopic(TOPICS.certify)],
      handle: async (messages) => {
        dead.push(...messages);
        return {};
      },
    });
    await t.adapters.bus.publish(TOPICS.certify, [
      { key: `POISON-${run}`, value: 'this is not json' },
      { key: `POISON-${run}-2`, value: JSON.stringify({ requestId: `poison-${run}`, operation: 'certify' }) },
    ]);
    const requestIds = await certifyMany(`AFTER-POISON-${run}`, 20);
    const signer = await t.system.make.signer();
    await signer.start();
    await expectIssuedExactlyOnce(requestIds);
    const letters = await eventually(async () => (dead.length >= 2 ? dead : undefined));
    const keys = letters.map((letter) => letter.key);
    expect(keys).toEqual(expect.arrayContaining([`POISON-${run}`, `POISON-${run}-2`]));
    for (const letter of letters) {
      expect(letter.headers[DEAD_LETTER_HEADERS.error]).toMatch(/not JSON|not a certify event/);
      expect(letter.headers[DEAD_LETTER_HEADERS.topic]).toBe(TOPICS.certify);
    }
    // The dead letter keeps the original message, so `divoc dlq replay` can put it back.
    expect(letters.find((letter) => letter.key === `POISON-${run}`)?.value.toString()).toBe('this is not json');
    await signer.stop();
    await dlq.stop();
  });

  it('retries while the database is unavailable for a few seconds, then issues everything, losing nothing', async () => {
    let outage: {
      db: ReturnType<typeof interruptibleDatabase>['db'];
      interrupt(): Promise<void> | void;
      restore(): Promise<void> | void;
      close(): Promise<void>;
    };
    if (useRealInfra()) {
      // A real outage: the signer reaches Postgres through a proxy that drops every connection.
      const target = new URL(t.env.DATABASE_URL as string);
      const proxy = await tcpProxy(target.hostname, Number(target.port || 5432));
      const url = new URL(target);
      url.port = String(proxy.port);
      const db = createPostgresDatabase({ url: url.toString(), connectTimeoutMs: 1000 });
      outage = {
        db,
        interrupt: () => proxy.interrupt(),
        restore: () => proxy.restore(),
        close: async () => {
          await db.close();
          await proxy.close();
        },
      };
    } else {
      const wrapped = interruptibleDatabase(t.adapters.db);
      outage = { ...wrapped, close: async () => undefined };
    }
    const signer = await t.system.make.signer({ db: outage.db });
    await signer.start();
    await outage.interrupt();
    const requestIds = await certifyMany(`OUTAGE-${run}`, 100);
    // The signer's readiness reports the outage while it lasts.
    const unready = await signer.http.inject({ method: 'GET', url: '/health/ready' });
    expect(unready.statusCode).toBe(503);
    expect(unready.json()).toMatchObject({
      status: 'unready',
      checks: { database: expect.stringMatching(/^unavailable/) },
    });
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(
      await count('SELECT count(*)::int AS count FROM certificates WHERE request_id = ANY($1)', [requestIds]),
    ).toBe(0);
    await outage.restore();
    await expectIssuedExactlyOnce(requestIds);
    const ready = await signer.http.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    await signer.stop();
    await outage.close();
  });
});
