import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type CertificationRequestV2, TOPICS } from '@divoc/contracts';
import { listDeadLetters, replayDeadLetters } from '@divoc/platform';
import { useRealInfra } from '@divoc/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, loadFixture, startTestSystem, submitCertify, type TestSystem } from './harness.js';

/**
 * The operator's recovery path (DESIGN §6): a bad etcd edit makes the signer reject requests the gateway
 * had accepted; they are dead-lettered with the reason and marked failed. Once the value is fixed,
 * `divoc dlq replay certify` puts them back and every one is issued — exactly once. In `pnpm test:infra`
 * the real CLI does it against Kafka; in `pnpm test` the same function runs on the in-process bus.
 */
const exec = promisify(execFile);
const cli = join(import.meta.dirname, '..', '..', 'packages', 'cli', 'dist', 'main.js');
let t: TestSystem;
let api: Awaited<ReturnType<TestSystem['system']['make']['vaccinationApi']>>;
let stopAll: () => Promise<void> = async () => {};
type Json = Record<string, any>;
const run = Date.now().toString(36).toUpperCase();

const divoc = async (...args: string[]): Promise<string> => {
  const { stdout } = await exec(process.execPath, [cli, ...args], {
    env: {
      ...process.env,
      KAFKA_BROKERS: t.env.KAFKA_BROKERS?.join(','),
      KAFKA_TOPIC_PREFIX: t.env.KAFKA_TOPIC_PREFIX,
    },
  });
  return stdout;
};

const statuses = async (requestIds: string[]) =>
  (
    await t.adapters.db.query<{ status: string; certificate_id: string | null; error: string | null }>(
      'SELECT status, certificate_id, error FROM requests WHERE request_id = ANY($1)',
      [requestIds],
    )
  ).rows;

beforeAll(async () => {
  t = await startTestSystem();
  api = await t.system.make.vaccinationApi({ outboxSweepIntervalMs: 0 });
});

afterAll(async () => {
  await stopAll();
  await api?.stop();
  await t?.close();
});

describe('dead-letter replay', () => {
  it('issues the requests a bad config edit rejected, once the value is fixed and the letters replayed', async () => {
    const ddcc = await loadFixture<CertificationRequestV2[]>('certify-v3-ddcc.json');
    const staff = await t.token(['facility-staff']);
    const items = Array.from({ length: 3 }, (_, index) => ({
      ...structuredClone(ddcc[0] as CertificationRequestV2),
      preEnrollmentCode: `REPLAY-${run}-${index}`,
    }));
    const requestIds = await submitCertify(api.http, staff, items);

    // An operator's edit drops Covishield from VACCINE_ICD before the signer gets to the requests.
    const good = t.system.registry.get(t.system.keys.VACCINE_ICD);
    const broken = good.filter((entry) => entry.vaccineName !== 'covishield');
    await t.adapters.config.put('VACCINE_ICD', JSON.stringify(broken));
    await eventually(async () =>
      t.system.registry.get(t.system.keys.VACCINE_ICD).length === broken.length ? true : undefined,
    );

    const signer = await t.system.make.signer();
    const processor = await t.system.make.processor();
    await Promise.all([signer.start(), processor.start()]);
    stopAll = async () => {
      await processor.stop();
      await signer.stop();
    };
    await eventually(async () => {
      const rows = await statuses(requestIds);
      return rows.length === 3 && rows.every((row) => row.status === 'failed') ? rows : undefined;
    });
    expect((await statuses(requestIds))[0]?.error).toMatch(/VACCINE_ICD/);

    const letters = useRealInfra()
      ? (await divoc('dlq', 'list', TOPICS.certify))
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as Json)
      : await listDeadLetters(t.adapters.bus, TOPICS.certify);
    const ours = letters.filter((letter) => String(letter.key).startsWith(`REPLAY-${run}`));
    expect(ours).toHaveLength(3);
    for (const letter of ours) {
      expect(letter.error).toMatch(/VACCINE_ICD/);
      expect(letter.originalTopic).toBe(TOPICS.certify);
    }

    // The fix, then the replay.
    await t.adapters.config.put('VACCINE_ICD', JSON.stringify(good));
    await eventually(async () =>
      t.system.registry.get(t.system.keys.VACCINE_ICD).length === good.length ? true : undefined,
    );
    const replayed = useRealInfra()
      ? (JSON.parse(await divoc('dlq', 'replay', TOPICS.certify)) as { replayed: number }).replayed
      : (await replayDeadLetters(t.adapters.bus, TOPICS.certify)).replayed;
    expect(replayed).toBe(letters.length);

    const issued = await eventually(async () => {
      const rows = await statuses(requestIds);
      return rows.every((row) => row.status === 'issued') ? rows : undefined;
    });
    expect(new Set(issued.map((row) => row.certificate_id)).size).toBe(3);
    const certificates = await t.adapters.db.query<{ count: number }>(
      'SELECT count(*)::int AS count FROM certificates WHERE request_id = ANY($1)',
      [requestIds],
    );
    expect(certificates.rows[0]?.count).toBe(3);

    // A second replay has nothing new to put back.
    const again = useRealInfra()
      ? (JSON.parse(await divoc('dlq', 'replay', TOPICS.certify)) as { replayed: number }).replayed
      : (await replayDeadLetters(t.adapters.bus, TOPICS.certify)).replayed;
    expect(again).toBe(0);
  });
});
