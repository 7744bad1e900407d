import type { CertificationRequestV2 } from '@divoc/contracts';
import { useRealInfra } from '@divoc/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, identityToken, loadFixture, startTestSystem, type TestSystem } from './harness.js';

/**
 * Real tokens end to end: in `pnpm test:infra` the services authenticate with the real Keycloak of
 * scripts/infra (realm keycloak/realm-export.json) and the tokens are Keycloak's; in `pnpm test` the
 * same calls run with equivalent dev-issuer tokens.
 */
type Json = Record<string, any>;
let t: TestSystem;
let stopAll: () => Promise<void>;
let gateway: Awaited<ReturnType<TestSystem['system']['make']['vaccinationApi']>>;
let api: Awaited<ReturnType<TestSystem['system']['make']['certificateApi']>>;
const run = Date.now().toString(36).toUpperCase();

beforeAll(async () => {
  t = await startTestSystem({ keycloak: true });
  expect(t.env.KEYCLOAK_URL !== undefined).toBe(useRealInfra());
  gateway = await t.system.make.vaccinationApi({ outboxSweepIntervalMs: 0 });
  const signer = await t.system.make.signer();
  const processor = await t.system.make.processor();
  api = await t.system.make.certificateApi();
  await Promise.all([signer.start(), processor.start(), api.start()]);
  stopAll = async () => {
    await api.stop();
    await processor.stop();
    await signer.stop();
    await gateway.stop();
  };
});

afterAll(async () => {
  await stopAll?.();
  await t?.close();
});

describe('with real tokens', () => {
  const ddcc = async (code: string, mobile: string) => {
    const [first] = await loadFixture<CertificationRequestV2[]>('certify-v3-ddcc.json');
    return [{ ...first, preEnrollmentCode: code, recipient: { ...first?.recipient, contact: [`tel:${mobile}`] } }];
  };

  const certifyAs = async (token: string, code: string, mobile: string) => {
    const accepted = await gateway.http.inject({
      method: 'POST',
      url: '/divoc/api/v3/certify',
      payload: await ddcc(code, mobile),
      headers: { authorization: `Bearer ${token}` },
    });
    expect(accepted.statusCode).toBe(200);
    const requestId = (accepted.json() as Json).requests[0].requestId;
    return eventually(async () => {
      const status = await gateway.http.inject({
        method: 'GET',
        url: `/divoc/api/v1/requests/${requestId}`,
        headers: { authorization: `Bearer ${token}` },
      });
      const body = status.json() as Json;
      return body.status === 'issued' ? body : undefined;
    });
  };

  it('lets a source system certify with an admin-api client-credentials token and read the status', async () => {
    const token = await identityToken(t, 'adminApi');
    const status = await certifyAs(token, `KC-${run}`, '9000012345');
    expect(status).toMatchObject({ status: 'issued', preEnrollmentCode: `KC-${run}` });
    expect(status.certificateId).toBeTruthy();
  });

  it('lets a citizen (recipient with a mobile_number) download only their own certificates', async () => {
    const service = await identityToken(t, 'adminApi');
    await certifyAs(service, `MINE-${run}`, '9000012345');
    await certifyAs(service, `THEIRS-${run}`, '9111111111');
    const citizen = await identityToken(t, { citizen: '9000012345' });
    const download = (code: string) =>
      api.http.inject({
        method: 'GET',
        url: `/certificate/api/certificatePDF/${code}`,
        headers: { authorization: `Bearer ${citizen}` },
      });
    expect((await download(`MINE-${run}`)).statusCode).toBe(200);
    expect((await download(`THEIRS-${run}`)).statusCode).toBe(404);
    const other = await identityToken(t, { citizen: '9111111111' });
    const theirs = await api.http.inject({
      method: 'GET',
      url: `/certificate/api/certificatePDF/THEIRS-${run}`,
      headers: { authorization: `Bearer ${other}` },
    });
    expect(theirs.statusCode).toBe(200);
  });

  it('refuses a citizen token at the certify API (403)', async () => {
    const citizen = await identityToken(t, { citizen: '9000012345' });
    const response = await gateway.http.inject({
      method: 'POST',
      url: '/divoc/api/v3/certify',
      payload: await ddcc(`NOPE-${run}`, '9000012345'),
      headers: { authorization: `Bearer ${citizen}` },
    });
    expect(response.statusCode).toBe(403);
  });
});
