import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTravelExportKeys } from '@divoc/certificate-api';
import {
  ACCESS,
  type Access,
  type CertificationRequestV2,
  type ServiceName,
  TEST_CSV_COLUMNS,
  TOPICS,
  VACCINATION_CSV_COLUMNS,
} from '@divoc/contracts';
import { createDevIssuer, type DevIssuer, type HttpApp } from '@divoc/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, loadFixture, startTestSystem, type TestSystem } from './harness.js';

/**
 * The authorization matrix, generated from the one access table (ACCESS in @divoc/contracts): every
 * endpoint of every service is called with no token, an expired token, a token from another issuer,
 * a token signed by an unknown key, the right role granted by the wrong client, a wrong role — and
 * with each right role, which must succeed. A route added to the table without an example here fails.
 */
type Json = Record<string, any>;
interface Example {
  url: string;
  payload?: unknown;
  headers?: Record<string, string>;
}
let t: TestSystem;
let apps: Record<ServiceName, HttpApp>;
let stopAll: () => Promise<void>;
let stranger: DevIssuer;
const run = Date.now().toString(36).toUpperCase();
const MOBILE = '9000012345';
const code = `MATRIX-${run}`;
/** Updated again and again by the PUT examples (so `code`'s certificate stays the active one). */
const updated = `MATRIX-UPD-${run}`;
const data: {
  requestId?: string;
  certificateId?: string;
  credential?: Json;
  listId?: string;
  ddcc?: Json[];
  test?: Json[];
  uploadId?: string;
  testUploadId?: string;
} = {};

/** A CSV upload (multipart/form-data, field "file") with the template's header and one row. */
const csvUpload = (columns: readonly string[]): Required<Pick<Example, 'payload' | 'headers'>> => {
  const boundary = 'divoc-matrix';
  const csv = `${columns.join(',')}\n${columns.map(() => 'x').join(',')}\n`;
  return {
    payload: `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="matrix.csv"\r\nContent-Type: text/csv\r\n\r\n${csv}\r\n--${boundary}--\r\n`,
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
};

/** A request that succeeds for a caller with the right role, per route. */
const examples = (): Record<string, Example> => ({
  'GET /divoc/api/v1/ping': { url: '/divoc/api/v1/ping' },
  'POST /divoc/api/v1/certify': {
    url: '/divoc/api/v1/certify',
    payload: [{ ...data.ddcc?.[0], preEnrollmentCode: `V1-${run}-${Math.random().toString(36).slice(2, 8)}` }],
  },
  'POST /divoc/api/v3/certify': {
    url: '/divoc/api/v3/certify',
    payload: [{ ...data.ddcc?.[1], preEnrollmentCode: `V3-${run}-${Math.random().toString(36).slice(2, 8)}` }],
  },
  'POST /divoc/api/v1/test/certify': {
    url: '/divoc/api/v1/test/certify',
    payload: [{ ...data.test?.[0], preEnrollmentCode: `T-${run}-${Math.random().toString(36).slice(2, 8)}` }],
  },
  'GET /divoc/api/v1/requests/:requestId': { url: `/divoc/api/v1/requests/${data.requestId}` },
  'PUT /divoc/api/v1/certificate': {
    url: '/divoc/api/v1/certificate',
    payload: [{ ...data.ddcc?.[0], preEnrollmentCode: updated }],
  },
  'PUT /divoc/api/v3/certificate': {
    url: '/divoc/api/v3/certificate',
    payload: [{ ...data.ddcc?.[0], preEnrollmentCode: updated }],
  },
  'DELETE /divoc/api/v1/certificates/:preEnrollmentCode': { url: `/divoc/api/v1/certificates/${code}?allDoses=true` },
  'POST /divoc/api/v1/bulkCertify': { url: '/divoc/api/v1/bulkCertify', ...csvUpload(VACCINATION_CSV_COLUMNS) },
  'POST /divoc/api/v1/test/bulkCertify': { url: '/divoc/api/v1/test/bulkCertify', ...csvUpload(TEST_CSV_COLUMNS) },
  'GET /divoc/api/v1/certify/uploads': { url: '/divoc/api/v1/certify/uploads' },
  'GET /divoc/api/v1/certify/uploads/:uploadId/errors': {
    url: `/divoc/api/v1/certify/uploads/${data.uploadId}/errors`,
  },
  'GET /divoc/api/v1/test/certify/uploads': { url: '/divoc/api/v1/test/certify/uploads' },
  'GET /divoc/api/v1/test/certify/uploads/:uploadId/errors': {
    url: `/divoc/api/v1/test/certify/uploads/${data.testUploadId}/errors`,
  },
  'GET /certificate/api/certificatePDF/:preEnrollmentCode': { url: `/certificate/api/certificatePDF/${code}` },
  'HEAD /certificate/api/certificatePDF/:preEnrollmentCode': { url: `/certificate/api/certificatePDF/${code}` },
  'GET /certificate/api/certificateQRCode/:preEnrollmentCode': { url: `/certificate/api/certificateQRCode/${code}` },
  'GET /certificate/api/certificatePDF': { url: `/certificate/api/certificatePDF?certificateId=${data.certificateId}` },
  'GET /certificate/api/test/certificatePDF/:preEnrollmentCode': {
    url: `/certificate/api/test/certificatePDF/${code}`,
  },
  'POST /certificate/api/eu-certificate': {
    url: `/certificate/api/eu-certificate?refId=${code}&type=text`,
    payload: { fn: 'Raghavan', gn: 'Ananya' },
  },
  'GET /certificate/api/shc-certificate': { url: `/certificate/api/shc-certificate?refId=${code}&type=text` },
  'GET /certificate/api/fhir-certificate': { url: `/certificate/api/fhir-certificate?refId=${code}` },
  'GET /.well-known/jwks.json': { url: '/.well-known/jwks.json' },
  'GET /certificate/api/beneficiaries': { url: `/certificate/api/beneficiaries?phoneno=${MOBILE}&dob=1988-03-14` },
  'POST /certificate/api/verify': { url: '/certificate/api/verify', payload: data.credential },
  'GET /.well-known/did.json': { url: '/.well-known/did.json' },
  'POST /divoc/api/v1/certificate/revoked': { url: '/divoc/api/v1/certificate/revoked', payload: data.credential },
  'GET /status-lists/:listId': { url: `/status-lists/${data.listId}` },
  'POST /divoc/notification-service/v1/notification': {
    url: '/divoc/notification-service/v1/notification',
    payload: {
      recipient: `tel:${MOBILE}`,
      template: 'recipientCertified',
      data: {
        name: 'Test',
        product: 'Covishield',
        preEnrollmentCode: code,
        certificateId: 'X',
        dose: 1,
        totalDoses: 2,
      },
    },
  },
});

const call = (service: ServiceName, route: string, example: Example, token?: string) => {
  const [method] = route.split(' ') as ['GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD'];
  return apps[service].inject({
    method,
    url: example.url,
    ...(example.payload === undefined ? {} : { payload: example.payload as object }),
    headers: { ...example.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
};

beforeAll(async () => {
  t = await startTestSystem();
  stranger = await createDevIssuer();
  const [ddcc, test] = [
    await loadFixture<CertificationRequestV2[]>('certify-v3-ddcc.json'),
    await loadFixture<Json[]>('test-certify.json'),
  ];
  data.ddcc = ddcc.map((item) => ({ ...item, recipient: { ...item.recipient, contact: [`tel:${MOBILE}`] } }));
  data.test = test.map((item) => ({ ...item, recipient: { ...item.recipient, contact: [`tel:${MOBILE}`] } }));
  const gateway = await t.system.make.vaccinationApi({ outboxSweepIntervalMs: 0 });
  const signer = await t.system.make.signer();
  const processor = await t.system.make.processor();
  // Export keys of our own: with real adapters the system has none configured (the exports would answer 503).
  const exportKeys = await loadTravelExportKeys({
    developmentDirectory: mkdtempSync(join(tmpdir(), 'divoc-authz-keys-')),
    developmentCountry: 'IN',
  });
  const certificates = await t.system.make.certificateApi({ exportKeys });
  const revocation = await t.system.make.revocationService();
  const notifications = await t.system.make.notificationService({
    channels: { sms: { kind: 'sms', send: async () => ({ ref: 'accepted' }), close: async () => undefined } },
  });
  await Promise.all([signer.start(), processor.start()]);
  apps = {
    'vaccination-api': gateway.http,
    'certificate-signer': signer.http,
    'certificate-processor': processor.http,
    'certificate-api': certificates.http,
    'revocation-service': revocation.http,
    'notification-service': notifications.http,
  };
  stopAll = async () => {
    for (const stoppable of [notifications, revocation, certificates, processor, signer, gateway])
      await stoppable.stop();
  };
  // One beneficiary with a vaccination and a test certificate, and a published status list.
  const staff = await t.token(['facility-staff'], { username: 'dev-user' });
  const certify = async (url: string, items: Json[]) => {
    const response = await gateway.http.inject({
      method: 'POST',
      url,
      payload: items,
      headers: { authorization: `Bearer ${staff}` },
    });
    return (response.json() as Json).requests[0].requestId as string;
  };
  data.requestId = await certify('/divoc/api/v3/certify', [{ ...data.ddcc[0], preEnrollmentCode: code }]);
  // An upload of each kind by the same user, for the error listings.
  const facilityAdmin = await t.token(['facility-admin'], { username: 'dev-user' });
  const bulk = async (url: string, columns: readonly string[]) => {
    const { payload, headers } = csvUpload(columns);
    const response = await gateway.http.inject({
      method: 'POST',
      url,
      payload: payload as string,
      headers: { ...headers, authorization: `Bearer ${facilityAdmin}` },
    });
    return (response.json() as Json).uploadId as string;
  };
  data.uploadId = await bulk('/divoc/api/v1/bulkCertify', VACCINATION_CSV_COLUMNS);
  data.testUploadId = await bulk('/divoc/api/v1/test/bulkCertify', TEST_CSV_COLUMNS);
  await certify('/divoc/api/v3/certify', [{ ...data.ddcc[0], preEnrollmentCode: updated }]);
  await certify('/divoc/api/v1/test/certify', [{ ...data.test[0], preEnrollmentCode: code }]);
  const row = await eventually(async () => {
    const { rows } = await t.adapters.db.query<{ certificate_id: string; credential: Json }>(
      `SELECT certificate_id, credential FROM certificates WHERE pre_enrollment_code = $1 AND kind = 'vaccination'`,
      [code],
    );
    return rows[0];
  });
  data.certificateId = row.certificate_id;
  data.credential = row.credential;
  data.listId = String(row.credential.credentialStatus.statusListCredential).split('/').pop();
  const stored = async (sql: string, value: string) =>
    (await t.adapters.db.query(sql, [value])).rows.length > 0 ? true : undefined;
  await eventually(() => stored(`SELECT 1 FROM certificates WHERE pre_enrollment_code = $1 AND kind = 'test'`, code));
  await eventually(() => stored(`SELECT 1 FROM certificates WHERE pre_enrollment_code = $1`, updated));
  await revocation.publisher.publishChanged();
  expect(TOPICS.certify).toBe('certify');
});

afterAll(async () => {
  await stopAll?.();
  await t?.close();
});

const routes = Object.entries(ACCESS).flatMap(([service, table]) =>
  Object.entries(table).map(([route, access]) => ({
    service: service as ServiceName,
    route,
    access: access as Access,
  })),
);
const protectedRoutes = routes.filter((entry) => !('public' in entry.access));
const publicRoutes = routes.filter((entry) => 'public' in entry.access);

describe('authorization matrix', () => {
  it('has an example for every route of the access table', () => {
    const missing = routes.map((entry) => entry.route).filter((route) => !(route in examples()));
    expect(missing).toEqual([]);
  });

  it.each(protectedRoutes.map((entry) => [`${entry.service} ${entry.route}`, entry] as const))(
    '%s',
    async (_name, { service, route, access }) => {
      if ('public' in access) return;
      const example = examples()[route] as Example;
      const allowed = access.roles;
      const wrongRole = ['facility-staff', 'facility-admin', 'facility-print-staff', 'api', 'recipient', 'admin'].find(
        (role) => !allowed.includes(role as never),
      ) as string;
      const first = allowed[0] as string;
      const expectStatus = async (token: string | undefined, status: number, why: string) =>
        expect((await call(service, route, example, token)).statusCode, `${route}: ${why}`).toBe(status);

      await expectStatus(undefined, 401, 'no token');
      await expectStatus(await t.token([first], { ttlSeconds: -120 } as never), 401, 'expired token');
      await expectStatus(
        await t.adapters.devIssuer?.issue({ roles: [first], issuer: 'https://keycloak.example/realms/other' }),
        401,
        'other issuer',
      );
      await expectStatus(await stranger.issue({ roles: [first] }), 401, 'signed by an unknown key');
      await expectStatus(
        await t.adapters.devIssuer?.issue({ roles: [first], rolesClient: 'other-app' }),
        403,
        'right role from the wrong client',
      );
      await expectStatus(await t.token([wrongRole], { mobile: MOBILE }), 403, `wrong role ${wrongRole}`);
      for (const role of allowed) {
        // The same user as the setup: a facility user reads only the requests they made.
        const token = await t.token([role], { mobile: MOBILE, username: 'dev-user' });
        const response = await call(service, route, examples()[route] as Example, token);
        expect(
          response.statusCode,
          `${route} with role ${role}: ${response.body.slice(0, 200)}`,
        ).toBeGreaterThanOrEqual(200);
        expect(response.statusCode, `${route} with role ${role}: ${response.body.slice(0, 200)}`).toBeLessThan(300);
      }
    },
  );

  it.each(publicRoutes.map((entry) => [`${entry.service} ${entry.route}`, entry] as const))(
    '%s is public',
    async (_name, { service, route }) => {
      // Answered without a token (the revocation check's 404 means "not revoked", DIVOC's contract).
      const response = await call(service, route, examples()[route] as Example);
      expect([401, 403], response.body.slice(0, 200)).not.toContain(response.statusCode);
      expect(response.statusCode).toBeLessThan(500);
    },
  );

  it('leaves the operational endpoints of every service public', async () => {
    for (const app of Object.values(apps)) {
      expect((await app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
    }
  });
});
