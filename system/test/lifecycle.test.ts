import { type CertificationRequestV2, TOPICS } from '@divoc/contracts';
import { verifyCredential } from '@divoc/credentials';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, loadFixture, settledRequests, startTestSystem, type TestSystem } from './harness.js';

/**
 * Update and revoke (DIVOC's rules) with a status list verifiers download: gateway → signer /
 * revocation-service → database → signed status list, on the embedded and the real adapters.
 */
type Json = Record<string, any>;
let t: TestSystem;
let gateway: Awaited<ReturnType<TestSystem['system']['make']['vaccinationApi']>>;
let revocation: Awaited<ReturnType<TestSystem['system']['make']['revocationService']>>;
let certificates: Awaited<ReturnType<TestSystem['system']['make']['certificateApi']>>;
let stopAll: () => Promise<void>;
let staff: string;
let ddcc: CertificationRequestV2[];
const run = Date.now().toString(36).toUpperCase();

const call = async (method: 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) => {
  const response = await gateway.http.inject({
    method,
    url,
    ...(payload === undefined ? {} : { payload: payload as object }),
    headers: { authorization: `Bearer ${staff}` },
  });
  return { status: response.statusCode, body: response.json() as Json };
};

const item = (code: string, dose: number, overrides: Json = {}): Json => {
  const base = structuredClone(ddcc[dose === 1 ? 0 : 1]) as Json;
  return { ...base, preEnrollmentCode: code, ...overrides, vaccination: { ...base.vaccination, dose, totalDoses: 3 } };
};

const settled = (requestIds: string[]) => settledRequests(t, requestIds);

const certify = async (items: Json[]) => {
  const response = await call('POST', '/divoc/api/v3/certify', items);
  expect(response.status).toBe(200);
  return settled(response.body.requests.map((request: Json) => request.requestId));
};

const certificate = async (certificateId: string) =>
  (
    await t.adapters.db.query<{
      status: string;
      credential: Json;
      revision: number;
      previous_certificate_id: string | null;
    }>('SELECT status, credential, revision, previous_certificate_id FROM certificates WHERE certificate_id = $1', [
      certificateId,
    ])
  ).rows[0];

/** The published status list of a certificate, as a verifier downloads it (after republication). */
const downloadedList = async (credential: Json) => {
  await revocation.publisher.publishChanged();
  const listId = String(credential.credentialStatus.statusListCredential).split('/').pop();
  const response = await revocation.http.inject({ method: 'GET', url: `/status-lists/${listId}` });
  expect(response.statusCode).toBe(200);
  return response.json() as Json;
};

const offline = async (credential: Json) => {
  const list = await downloadedList(credential);
  return verifyCredential(credential, { trustedKeys: t.trustedKeys, statusList: () => list });
};

const revokedCheck = async (credential: Json) =>
  (await revocation.http.inject({ method: 'POST', url: '/divoc/api/v1/certificate/revoked', payload: credential }))
    .statusCode;

/** certificate-api's public verification, as a scanner calls it with the credential JSON. */
const verified = async (credential: Json) =>
  (
    await certificates.http.inject({ method: 'POST', url: '/certificate/api/verify', payload: credential })
  ).json() as Json;

beforeAll(async () => {
  t = await startTestSystem();
  ddcc = await loadFixture('certify-v3-ddcc.json');
  gateway = await t.system.make.vaccinationApi({ outboxSweepIntervalMs: 0, updateLimit: 2 });
  const signer = await t.system.make.signer({ updateLimit: 2 });
  const processor = await t.system.make.processor();
  revocation = await t.system.make.revocationService({ publishIntervalMs: 200 });
  certificates = await t.system.make.certificateApi();
  await Promise.all([signer.start(), processor.start(), revocation.start()]);
  stopAll = async () => {
    await certificates.stop();
    await revocation.stop();
    await processor.stop();
    await signer.stop();
    await gateway.stop();
  };
  staff = await t.token(['facility-staff']);
});

afterAll(async () => {
  await stopAll?.();
  await t?.close();
});

describe('update', () => {
  it('issues a new certificate and supersedes the old one in the status list and the check API', async () => {
    const code = `UPD-${run}`;
    const [first] = await certify([item(code, 1)]);
    const old = (await certificate(first?.certificate_id as string)) as NonNullable<
      Awaited<ReturnType<typeof certificate>>
    >;
    await expect(offline(old.credential)).resolves.toMatchObject({ valid: true, revocation: 'not-revoked' });
    expect(await revokedCheck(old.credential)).toBe(404);
    expect(await verified(old.credential)).toMatchObject({ valid: true, status: 'valid' });

    const response = await call('PUT', '/divoc/api/v3/certificate', [
      item(code, 1, { recipient: { ...ddcc[0]?.recipient, name: 'Ananya R. Raghavan' } }),
    ]);
    expect(response.status).toBe(200);
    const [updated] = await settled(response.body.requests.map((request: Json) => request.requestId));
    expect(updated?.status).toBe('issued');
    const fresh = (await certificate(updated?.certificate_id as string)) as NonNullable<
      Awaited<ReturnType<typeof certificate>>
    >;
    expect(fresh).toMatchObject({ status: 'active', revision: 2, previous_certificate_id: first?.certificate_id });
    expect(fresh.credential.credentialSubject.name).toBe('Ananya R. Raghavan');
    expect((await certificate(first?.certificate_id as string))?.status).toBe('superseded');

    await expect(offline(old.credential)).resolves.toMatchObject({ valid: false, reason: 'revoked' });
    await expect(offline(fresh.credential)).resolves.toMatchObject({ valid: true, revocation: 'not-revoked' });
    expect(await revokedCheck(old.credential)).toBe(200);
    expect(await revokedCheck(fresh.credential)).toBe(404);
    const superseded = await verified(old.credential);
    expect(superseded).toMatchObject({ valid: false, status: 'revoked', reason: 'revoked' });
    expect(superseded.message).toContain(`replaced by certificate ${updated?.certificate_id}`);
    expect(await verified(fresh.credential)).toMatchObject({ valid: true, status: 'valid' });
  });

  it('answers 412 with a reason when the dose has no certificate or the update limit is reached', async () => {
    const code = `LIMIT-${run}`;
    const none = await call('PUT', '/divoc/api/v3/certificate', [item(code, 1)]);
    expect(none.status).toBe(412);
    expect(none.body).toMatchObject({ code: 'UPDATE_NOT_ALLOWED', details: [{ index: 0, path: 'vaccination.dose' }] });
    await certify([item(code, 1)]);
    for (let i = 0; i < 2; i++) {
      const response = await call('PUT', '/divoc/api/v3/certificate', [item(code, 1)]);
      expect(response.status).toBe(200);
      await settled(response.body.requests.map((request: Json) => request.requestId));
    }
    const limited = await call('PUT', '/divoc/api/v3/certificate', [item(code, 1)]);
    expect(limited.status).toBe(412);
    expect(limited.body.details[0].message).toMatch(/limit \(2\)/);
  });

  it('never leaves two active certificates when two updates of the same dose race', async () => {
    const code = `RACE-${run}`;
    await certify([item(code, 1)]);
    const [a, b] = await Promise.all([
      call('PUT', '/divoc/api/v3/certificate', [item(code, 1, { enrollmentType: 'A' })]),
      call('PUT', '/divoc/api/v3/certificate', [item(code, 1, { enrollmentType: 'B' })]),
    ]);
    await settled([...a.body.requests, ...b.body.requests].map((request: Json) => request.requestId));
    const { rows } = await t.adapters.db.query<{ active: number; total: number }>(
      `SELECT count(*) FILTER (WHERE status = 'active')::int AS active, count(*)::int AS total FROM certificates WHERE pre_enrollment_code = $1`,
      [code],
    );
    expect(rows[0]).toEqual({ active: 1, total: 3 });
  });
});

describe('revoke', () => {
  const revoke = (code: string, query: string) => call('DELETE', `/divoc/api/v1/certificates/${code}?${query}`);

  it("applies DIVOC's rules: consecutive doses including the highest, allDoses, unknown code", async () => {
    const code = `REV-${run}`;
    await certify([item(code, 1), item(code, 2), item(code, 3)]);
    expect((await revoke(code, 'doses=1&doses=3')).status).toBe(400); // not consecutive
    expect((await revoke(code, 'doses=1&doses=2')).status).toBe(400); // misses the highest dose (3)
    expect((await revoke(code, '')).status).toBe(400); // neither doses nor allDoses
    expect((await revoke(`NOBODY-${run}`, 'allDoses=true')).status).toBe(404);
    const accepted = await revoke(code, 'doses=2&doses=3&reason=entered%20twice');
    expect(accepted).toMatchObject({ status: 200, body: { preEnrollmentCode: code, doses: [2, 3] } });
    await eventually(async () => {
      const { rows } = await t.adapters.db.query<{ dose: number; status: string }>(
        'SELECT dose, status FROM certificates WHERE pre_enrollment_code = $1 ORDER BY dose',
        [code],
      );
      return rows.map((row) => row.status).join() === 'active,revoked,revoked' ? rows : undefined;
    });
    const { rows } = await t.adapters.db.query<{ reason: string; actor: string }>(
      'SELECT reason, actor FROM revocations WHERE pre_enrollment_code = $1',
      [code],
    );
    expect(rows).toHaveLength(2);
    expect(rows[0]?.reason).toBe('entered twice');
    const all = await revoke(code, 'allDoses=true');
    expect(all).toMatchObject({ status: 200, body: { doses: [1] } });
  });

  it('lets a revoked dose be certified again, and the new certificate is valid', async () => {
    const code = `AGAIN-${run}`;
    await certify([item(code, 1), item(code, 2)]);
    expect((await revoke(code, 'doses=2')).status).toBe(200);
    await eventually(async () => {
      const { rows } = await t.adapters.db.query<{ status: string }>(
        `SELECT status FROM certificates WHERE pre_enrollment_code = $1 AND dose = 2`,
        [code],
      );
      return rows[0]?.status === 'revoked' ? true : undefined;
    });
    const [again] = await certify([item(code, 2)]);
    expect(again?.status).toBe('issued');
    const fresh = await certificate(again?.certificate_id as string);
    await expect(offline(fresh?.credential as Json)).resolves.toMatchObject({ valid: true, revocation: 'not-revoked' });
  });

  it('changes nothing when a revoke request is delivered again', async () => {
    const code = `REDELIVER-${run}`;
    await certify([item(code, 1)]);
    const event = {
      requestId: `redeliver-${run}`,
      preEnrollmentCode: code,
      allDoses: true,
      reason: 'test',
      actor: 'tester',
      requestedAt: new Date().toISOString(),
    };
    const revokedEvents: string[] = [];
    const reader = await t.adapters.bus.consume({
      groupId: `revoked-reader-${run}`,
      topics: [TOPICS.revoked],
      handle: async (messages) => {
        for (const message of messages) if (message.key === code) revokedEvents.push(message.value.toString());
        return {};
      },
    });
    await t.adapters.bus.publish(TOPICS.revokeCert, [{ key: code, value: JSON.stringify(event) }]);
    await eventually(async () => (revokedEvents.length === 1 ? true : undefined));
    const before = await t.adapters.db.query('SELECT * FROM revocations WHERE pre_enrollment_code = $1', [code]);
    await t.adapters.bus.publish(TOPICS.revokeCert, [{ key: code, value: JSON.stringify(event) }]);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const after = await t.adapters.db.query('SELECT * FROM revocations WHERE pre_enrollment_code = $1', [code]);
    expect(after.rows).toEqual(before.rows);
    expect(revokedEvents).toHaveLength(1);
    await reader.stop();
  });
});

describe('status list endpoint', () => {
  it('serves the signed list with an ETag, answers 304 to a revalidation, and republishes within 5 s of a change', async () => {
    const code = `ETAG-${run}`;
    const [issued] = await certify([item(code, 1)]);
    const credential = (await certificate(issued?.certificate_id as string))?.credential as Json;
    const listId = String(credential.credentialStatus.statusListCredential).split('/').pop();
    const first = await eventually(async () => {
      const response = await revocation.http.inject({ method: 'GET', url: `/status-lists/${listId}` });
      return response.statusCode === 200 ? response : undefined;
    });
    expect(first.headers.etag).toBeTruthy();
    expect(first.headers['cache-control']).toMatch(/max-age/);
    const again = await revocation.http.inject({
      method: 'GET',
      url: `/status-lists/${listId}`,
      headers: { 'if-none-match': String(first.headers.etag) },
    });
    expect(again.statusCode).toBe(304);
    expect((await call('DELETE', `/divoc/api/v1/certificates/${code}?allDoses=true`)).status).toBe(200);
    const started = Date.now();
    await eventually(
      async () => {
        const response = await revocation.http.inject({ method: 'GET', url: `/status-lists/${listId}` });
        return response.headers.etag !== first.headers.etag ? true : undefined;
      },
      { timeoutMs: 5000 },
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await revocation.http.inject({ method: 'GET', url: '/status-lists/999999' })).statusCode).toBe(404);
  });

  it('refuses an invalid credential at the revocation check with 400', async () => {
    const response = await revocation.http.inject({
      method: 'POST',
      url: '/divoc/api/v1/certificate/revoked',
      payload: { not: 'a credential' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'INVALID_CREDENTIAL' });
  });
});
