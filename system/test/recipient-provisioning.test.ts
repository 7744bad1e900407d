import { randomInt } from 'node:crypto';
import type { CertificationRequestV2 } from '@divoc/contracts';
import { createKeycloakRecipientDirectory } from '@divoc/platform';
import { realInfraEnv, useRealInfra } from '@divoc/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type KeycloakAdminStandIn,
  startKeycloakAdminStandIn,
} from '../../services/certificate-processor/test/keycloak-admin-stand-in.js';
import {
  eventually,
  identityToken,
  loadFixture,
  settledRequests,
  startTestSystem,
  submitCertify,
  type TestSystem,
} from './harness.js';

/**
 * Recipient provisioning (issue 7, optional, off by default): with it on, certificate-processor creates a
 * Keycloak account for each new beneficiary mobile number after the certificate is issued, and the
 * citizen can then log in and download exactly their certificates. `pnpm test:infra` runs it against the
 * real Keycloak of scripts/infra; `pnpm test` against a stand-in of its two endpoints. Outages of
 * Keycloak are covered in services/certificate-processor/test.
 */
type Json = Record<string, any>;
const CLIENT = {
  id: 'recipient-provisioner',
  secret: 'test-only-recipient-provisioner-secret-do-not-use-in-production',
};
const CITIZEN_PASSWORD = 'Test-Only-Citizen-Passw0rd!';
const real = useRealInfra();
let t: TestSystem;
let standIn: KeycloakAdminStandIn | undefined;
let keycloakUrl: string;
let gateway: Awaited<ReturnType<TestSystem['system']['make']['vaccinationApi']>>;
let api: Awaited<ReturnType<TestSystem['system']['make']['certificateApi']>>;
let stopAll: () => Promise<void> = async () => {};
const created: string[] = [];
const run = Date.now().toString(36).toUpperCase();
const newMobile = () => `9${String(randomInt(0, 1e9)).padStart(9, '0')}`;

/** The real Keycloak's admin REST API, as the TEST-ONLY bootstrap admin of scripts/infra. */
const admin = async (method: string, path: string, body?: unknown): Promise<Response> => {
  const login = await fetch(`${keycloakUrl}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'password',
      client_id: 'admin-cli',
      username: process.env.KEYCLOAK_ADMIN_USERNAME ?? 'admin',
      password: process.env.KEYCLOAK_ADMIN_PASSWORD ?? 'test-only-keycloak-admin-password',
    }),
  });
  const { access_token: token } = (await login.json()) as { access_token: string };
  return fetch(`${keycloakUrl}/admin/realms/divoc${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
};

/** The provisioned account of a mobile number: its attributes and groups, or undefined. */
const account = async (mobile: string): Promise<{ mobile?: string; groups: string[] } | undefined> => {
  if (standIn !== undefined) {
    const user = standIn.users.get(mobile);
    return user && { mobile: user.attributes.mobile_number?.[0], groups: user.groups };
  }
  const [user] = (await (await admin('GET', `/users?username=${mobile}&exact=true`)).json()) as Json[];
  if (user === undefined) return undefined;
  const groups = (await (await admin('GET', `/users/${user.id}/groups`)).json()) as Json[];
  return { mobile: user.attributes?.mobile_number?.[0], groups: groups.map((group) => group.path) };
};

const certify = async (code: string, mobile: string) => {
  const [first] = await loadFixture<CertificationRequestV2[]>('certify-v3-ddcc.json');
  const staff = await identityToken(t, 'adminApi');
  const item = { ...first, preEnrollmentCode: code, recipient: { ...first?.recipient, contact: [`tel:+91${mobile}`] } };
  return submitCertify(gateway.http, staff, [item]);
};

beforeAll(async () => {
  // The gateway and downloads take dev-issuer tokens here; the citizen login below is Keycloak's own.
  t = await startTestSystem({ keycloak: real });
  if (real) keycloakUrl = realInfraEnv().KEYCLOAK_URL.replace(/\/$/, '');
  else {
    standIn = await startKeycloakAdminStandIn(CLIENT);
    keycloakUrl = standIn.url;
  }
  const recipients = createKeycloakRecipientDirectory({
    url: keycloakUrl,
    realm: 'divoc',
    clientId: CLIENT.id,
    clientSecret: CLIENT.secret,
    group: '/recipients',
  });
  gateway = await t.system.make.vaccinationApi({ outboxSweepIntervalMs: 0 });
  const signer = await t.system.make.signer();
  const processor = await t.system.make.processor({ recipients });
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
  await stopAll();
  if (real) {
    for (const mobile of created) {
      const [user] = (await (await admin('GET', `/users?username=${mobile}&exact=true`)).json()) as Json[];
      if (user) await admin('DELETE', `/users/${user.id}`);
    }
  }
  await standIn?.close();
  await t?.close();
});

describe('recipient provisioning', () => {
  it('creates one recipient account per new mobile number after issuance, and leaves existing ones', async () => {
    const mobile = newMobile();
    created.push(mobile);
    const requests = [
      ...(await certify(`PROV-${run}-1`, mobile)),
      ...(await certify(`PROV-${run}-2`, mobile)), // A second beneficiary on the same phone (a family).
    ];
    const settled = await settledRequests(t, requests);
    expect(settled.map((request) => request.status)).toEqual(['issued', 'issued']);
    const provisioned = await eventually(() => account(mobile), { timeoutMs: 60_000 });
    expect(provisioned).toEqual({ mobile, groups: ['/recipients'] });
    if (standIn !== undefined) expect(standIn.users.size).toBe(1);
  });

  it('lets the provisioned citizen log in and download exactly their certificate', async () => {
    const mobile = newMobile();
    created.push(mobile);
    const code = `PROV-${run}-LOGIN`;
    await certify(code, mobile);
    await eventually(() => account(mobile), { timeoutMs: 60_000 });
    if (!real) {
      // The stand-in has no login; what the account holds is what the real test logs in with.
      expect(standIn?.users.get(mobile)?.attributes).toEqual({ mobile_number: [mobile] });
      return;
    }
    // The citizen portal's own login (DIVOC used an OTP): here a password set by an administrator.
    const [user] = (await (await admin('GET', `/users?username=${mobile}&exact=true`)).json()) as Json[];
    const reset = await admin('PUT', `/users/${user?.id}/reset-password`, {
      type: 'password',
      value: CITIZEN_PASSWORD,
      temporary: false,
    });
    expect(reset.status).toBe(204);
    const login = await fetch(`${keycloakUrl}/realms/divoc/protocol/openid-connect/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: 'citizen-portal',
        username: mobile,
        password: CITIZEN_PASSWORD,
        scope: 'openid',
      }),
    });
    expect(login.status, await login.clone().text()).toBe(200);
    const { access_token: token } = (await login.json()) as { access_token: string };
    const own = await api.http.inject({
      method: 'GET',
      url: `/certificate/api/certificatePDF/${code}`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(own.statusCode).toBe(200);
    const someoneElses = await api.http.inject({
      method: 'GET',
      url: `/certificate/api/certificatePDF/PROV-${run}-1`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(someoneElses.statusCode).toBe(404);
  });
});
