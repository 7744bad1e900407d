import type { CertificationRequestV2 } from '@divoc/contracts';
import { verifyCredential } from '@divoc/credentials';
import { useRealInfra } from '@divoc/platform/testing';
import { findCertificateById } from '@divoc/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, loadFixture, startTestSystem, type TestSystem } from './harness.js';

/**
 * The certify path end to end — gateway → bus → signer → database → certify_ack → processor →
 * request ledger — run by `pnpm test` on the embedded adapters and by `pnpm test:infra` on Kafka,
 * Postgres, Redis and etcd.
 */
let t: TestSystem;
let api: Awaited<ReturnType<TestSystem['system']['make']['vaccinationApi']>>;
let stopAll: () => Promise<void>;
let staff: string;
let ddcc: CertificationRequestV2[];

type Json = Record<string, any>;

const post = async (url: string, body: unknown, headers: Record<string, string> = {}) => {
  const response = await api.http.inject({
    method: 'POST',
    url,
    payload: body as object,
    headers: { authorization: `Bearer ${staff}`, ...headers },
  });
  return { status: response.statusCode, body: response.json() as Json };
};

const statusOf = async (requestId: string) => {
  const response = await api.http.inject({
    method: 'GET',
    url: `/divoc/api/v1/requests/${requestId}`,
    headers: { authorization: `Bearer ${staff}` },
  });
  return response.json() as Json;
};

/** Waits until every request left "accepted"; returns their final status records. */
const settled = async (requestIds: string[]) =>
  eventually(
    async () => {
      const statuses = await Promise.all(requestIds.map(statusOf));
      return statuses.every((status) => status.status !== 'accepted') ? statuses : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 100 },
  );

/** A DDCC request for a new beneficiary (unique preEnrollmentCode), dose 1 of 2 by default. */
const beneficiary = (code: string, dose = 1): Json => {
  const item = structuredClone(ddcc[0]) as Json;
  item.preEnrollmentCode = code;
  item.vaccination.dose = dose;
  return item;
};

const run = Date.now().toString(36);

beforeAll(async () => {
  t = await startTestSystem();
  ddcc = await loadFixture('certify-v3-ddcc.json');
  api = await t.system.make.vaccinationApi({ outboxSweepIntervalMs: 0 });
  const signer = await t.system.make.signer();
  const processor = await t.system.make.processor();
  await signer.start();
  await processor.start();
  stopAll = async () => {
    await processor.stop();
    await signer.stop();
    await api.stop();
  };
  staff = await t.token(['facility-staff'], { username: 'staff-1' });
});

afterAll(async () => {
  await stopAll?.();
  await t?.close();
});

describe('certify', () => {
  it('issues the v3 DDCC fixture: 200 with request ids, then issued with a certificate that verifies', async () => {
    const items = ddcc.map((item) => ({ ...item, preEnrollmentCode: `${item.preEnrollmentCode}-${run}` }));
    const accepted = await post('/divoc/api/v3/certify', items);
    expect(accepted.status).toBe(200);
    expect(accepted.body.requests).toHaveLength(2);
    expect(accepted.body.requests.map((request: Json) => request.dose)).toEqual([1, 2]);
    const statuses = await settled(accepted.body.requests.map((request: Json) => request.requestId));
    for (const status of statuses) {
      expect(status.status).toBe('issued');
      const certificate = await findCertificateById(t.adapters.db, status.certificateId);
      expect(certificate?.status).toBe('active');
      const signed = certificate?.credential as Json;
      expect(signed.evidence[0].certificateId).toBe(status.certificateId);
      await expect(verifyCredential(signed, { trustedKeys: t.trustedKeys })).resolves.toMatchObject({ valid: true });
    }
  });

  it('stores each credential as the signer wrote it (json, key order kept), lz4-compressed on Postgres', async () => {
    const { rows } = await t.adapters.db.query<{ type: string; compression: string }>(
      `SELECT format_type(atttypid, atttypmod) AS type, attcompression AS compression FROM pg_attribute
       WHERE attrelid = 'certificates'::regclass AND attname = 'credential'`,
    );
    // PGlite is built without lz4 and keeps pglz.
    expect(rows[0]).toEqual({ type: 'json', compression: useRealInfra() ? 'l' : '' });
    const stored = await t.adapters.db.query<{ text: string; method: string | null }>(
      'SELECT credential::text AS text, pg_column_compression(credential) AS method FROM certificates LIMIT 1',
    );
    const text = stored.rows[0]?.text as string;
    // The builder's order (jsonb would have put "type" and "proof" first) and compact JSON.
    expect(Object.keys(JSON.parse(text))).toEqual([
      '@context',
      'credentialSubject',
      'issuer',
      'issuanceDate',
      'nonTransferable',
      'type',
      'evidence',
      'credentialStatus',
      'proof',
    ]);
    expect(text).toBe(JSON.stringify(JSON.parse(text)));
    expect(stored.rows[0]?.method).toBe(useRealInfra() ? 'lz4' : 'pglz');
  });

  it('issues 200 requests exactly once each (one batch of 100 and 100 single calls)', async () => {
    const batch = Array.from({ length: 100 }, (_, index) => beneficiary(`BULK-${run}-${index}`));
    const singles = Array.from({ length: 100 }, (_, index) => beneficiary(`ONE-${run}-${index}`));
    const responses = [
      await post('/divoc/api/v3/certify', batch),
      ...(await Promise.all(singles.map((item) => post('/divoc/api/v3/certify', [item])))),
    ];
    expect(responses.every((response) => response.status === 200)).toBe(true);
    const requestIds = responses.flatMap((response) =>
      response.body.requests.map((request: Json) => request.requestId),
    );
    expect(new Set(requestIds).size).toBe(200);
    const statuses = await settled(requestIds);
    expect(statuses.map((status) => status.status)).toEqual(Array(200).fill('issued'));
    const { rows } = await t.adapters.db.query<{ certificates: number; requests: number }>(
      `SELECT count(*)::int AS certificates, count(DISTINCT request_id)::int AS requests FROM certificates
       WHERE pre_enrollment_code LIKE $1 OR pre_enrollment_code LIKE $2`,
      [`BULK-${run}-%`, `ONE-${run}-%`],
    );
    expect(rows[0]).toEqual({ certificates: 200, requests: 200 });
  });

  it('answers the same dose again with "duplicate" and keeps one certificate', async () => {
    const first = await post('/divoc/api/v3/certify', [beneficiary(`DUP-${run}`)]);
    const [issued] = await settled([first.body.requests[0].requestId]);
    const again = await post('/divoc/api/v3/certify', [beneficiary(`DUP-${run}`)]);
    const [duplicate] = await settled([again.body.requests[0].requestId]);
    expect(issued?.status).toBe('issued');
    expect(duplicate).toMatchObject({ status: 'duplicate', certificateId: issued?.certificateId });
    const { rows } = await t.adapters.db.query<{ count: number }>(
      'SELECT count(*)::int AS count FROM certificates WHERE pre_enrollment_code = $1',
      [`DUP-${run}`],
    );
    expect(rows[0]?.count).toBe(1);
  });

  it('returns the same request ids for the same Idempotency-Key, and refuses the key for another body', async () => {
    const body = [beneficiary(`IDEM-${run}`)];
    const headers = { 'idempotency-key': `key-${run}` };
    const first = await post('/divoc/api/v3/certify', body, headers);
    const second = await post('/divoc/api/v3/certify', body, headers);
    expect(second).toEqual(first);
    const other = await post('/divoc/api/v3/certify', [beneficiary(`IDEM-${run}-other`)], headers);
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const { rows } = await t.adapters.db.query<{ count: number }>(
      'SELECT count(*)::int AS count FROM requests WHERE pre_enrollment_code = $1',
      [`IDEM-${run}`],
    );
    expect(rows[0]?.count).toBe(1);
  });

  it('rejects a batch with one invalid item with 422 listing the error, and publishes nothing', async () => {
    const invalid = beneficiary(`BAD-${run}-1`);
    delete invalid.vaccination.dose;
    const batch = [beneficiary(`BAD-${run}-0`), invalid, beneficiary(`BAD-${run}-2`)];
    const response = await post('/divoc/api/v3/certify', batch);
    expect(response.status).toBe(422);
    expect(response.body.details).toEqual([expect.objectContaining({ index: 1, path: 'vaccination.dose' })]);
    const { rows } = await t.adapters.db.query<{ count: number }>(
      'SELECT count(*)::int AS count FROM requests WHERE pre_enrollment_code LIKE $1',
      [`BAD-${run}-%`],
    );
    expect(rows[0]?.count).toBe(0);
    // Nothing reaches the signer either: no certificate ever appears.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const certificates = await t.adapters.db.query<{ count: number }>(
      'SELECT count(*)::int AS count FROM certificates WHERE pre_enrollment_code LIKE $1',
      [`BAD-${run}-%`],
    );
    expect(certificates.rows[0]?.count).toBe(0);
  });

  it('rejects an unknown vaccine on v3 with 422 naming the etcd key to edit', async () => {
    const item = beneficiary(`VAX-${run}`);
    item.vaccination.name = 'Vaxitol';
    const response = await post('/divoc/api/v3/certify', [item]);
    expect(response.status).toBe(422);
    expect(response.body.details[0]).toMatchObject({ index: 0, path: 'vaccination.name' });
    expect(response.body.details[0].message).toMatch(/VACCINE_ICD/);
  });

  it('certifies v1 requests and test results', async () => {
    const v1 = (await loadFixture<Json[]>('certify-v1.json')).map((item) => ({
      ...item,
      preEnrollmentCode: `V1-${run}`,
    }));
    const tests = (await loadFixture<Json[]>('test-certify.json')).map((item) => ({
      ...item,
      preEnrollmentCode: `TEST-${run}`,
    }));
    const [vaccination, test] = [
      await post('/divoc/api/v1/certify', v1),
      await post('/divoc/api/v1/test/certify', tests),
    ];
    const statuses = await settled([vaccination.body.requests[0].requestId, test.body.requests[0].requestId]);
    expect(statuses.map((status) => [status.kind, status.status])).toEqual([
      ['vaccination', 'issued'],
      ['test', 'issued'],
    ]);
  });

  it('refuses callers without a token (401) or without the facility-staff role (403)', async () => {
    const item = [beneficiary(`AUTH-${run}`)];
    const anonymous = await api.http.inject({ method: 'POST', url: '/divoc/api/v3/certify', payload: item });
    expect(anonymous.statusCode).toBe(401);
    const citizen = await t.token(['recipient'], { mobile: '9000012345' });
    const wrongRole = await post('/divoc/api/v3/certify', item, { authorization: `Bearer ${citizen}` });
    expect(wrongRole.status).toBe(403);
    expect(wrongRole.body).toMatchObject({ code: 'FORBIDDEN' });
  });

  it("does not show another user's request, and answers unknown routes with a JSON 404", async () => {
    const mine = await post('/divoc/api/v3/certify', [beneficiary(`MINE-${run}`)]);
    const other = await t.token(['facility-staff'], { username: 'staff-2' });
    const peek = await api.http.inject({
      method: 'GET',
      url: `/divoc/api/v1/requests/${mine.body.requests[0].requestId}`,
      headers: { authorization: `Bearer ${other}` },
    });
    expect(peek.statusCode).toBe(404);
    const unknown = await api.http.inject({ method: 'GET', url: '/divoc/api/v9/nothing' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'NOT_FOUND' });
  });
});
