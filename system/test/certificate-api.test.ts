import { type CertificationRequestV2, TOPICS } from '@divoc/contracts';
import { credentialQr, generateSigningKey, signCredential } from '@divoc/credentials';
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  loadFixture,
  settledRequests,
  startTestSystem,
  submitCertify,
  type TestSystem,
} from './harness.js';

/**
 * certificate-api end to end: certificates issued through the pipeline, then downloaded, searched and
 * verified with the authorization of DESIGN §9 — on the embedded adapters (`pnpm test`) and on the
 * real ones (`pnpm test:infra`).
 */
const jsQR = jsQRModule.default;
type Json = Record<string, any>;
let t: TestSystem;
let stopAll: () => Promise<void>;
let api: Awaited<ReturnType<TestSystem['system']['make']['certificateApi']>>;
let gateway: Awaited<ReturnType<TestSystem['system']['make']['vaccinationApi']>>;
let renders = 0;
const run = Date.now().toString(36).toUpperCase();
const OWNER_MOBILE = '9000012345';
const code = `API-${run}`;
const otherCode = `OTHER-${run}`;
const tokens: Record<string, string> = {};

const get = (url: string, token?: string, method: 'GET' | 'HEAD' = 'GET') =>
  api.http.inject({ method, url, headers: token ? { authorization: `Bearer ${token}` } : {} });

/** Certifies DDCC items through the gateway; the certificate ids once the ledger says issued. */
const certify = async (items: Json[]) => {
  const settled = await settledRequests(t, await submitCertify(gateway.http, tokens.staff as string, items));
  expect(settled.map((request) => request.status)).toEqual(items.map(() => 'issued'));
  return settled.map((request) => request.certificate_id as string);
};

const itemFor = (template: CertificationRequestV2, pec: string, mobile: string, dose: number): Json => ({
  ...structuredClone(template),
  preEnrollmentCode: pec,
  recipient: { ...structuredClone(template.recipient), contact: [`tel:${mobile}`] },
  vaccination: { ...structuredClone(template.vaccination), dose },
});

let certificateIds: string[];

beforeAll(async () => {
  t = await startTestSystem();
  const ddcc = await loadFixture<CertificationRequestV2[]>('certify-v3-ddcc.json');
  gateway = await t.system.make.vaccinationApi({ outboxSweepIntervalMs: 0 });
  const signer = await t.system.make.signer();
  const processor = await t.system.make.processor();
  api = await t.system.make.certificateApi({ onRender: () => renders++ });
  await Promise.all([signer.start(), processor.start(), api.start()]);
  stopAll = async () => {
    await api.stop();
    await processor.stop();
    await signer.stop();
    await gateway.stop();
  };
  tokens.staff = await t.token(['facility-staff']);
  tokens.owner = await t.token(['recipient'], { mobile: `+91 ${OWNER_MOBILE}` });
  tokens.otherCitizen = await t.token(['recipient'], { mobile: '9111111111' });
  tokens.printDesk = await t.token(['facility-print-staff']);
  tokens.service = await t.token(['api']);
  tokens.wrongRole = await t.token(['facility-admin']);
  certificateIds = await certify([
    itemFor(ddcc[0] as CertificationRequestV2, code, OWNER_MOBILE, 1),
    itemFor(ddcc[1] as CertificationRequestV2, code, OWNER_MOBILE, 2),
  ]);
  await certify([itemFor(ddcc[0] as CertificationRequestV2, otherCode, '9222222222', 1)]);
});

afterAll(async () => {
  await stopAll?.();
  await t?.close();
});

const PROTECTED = [
  `/certificate/api/certificatePDF/${code}`,
  `/certificate/api/certificateQRCode/${code}`,
  `/certificate/api/certificatePDF?certificateId=${'X'}`,
  `/certificate/api/test/certificatePDF/${code}`,
  `/certificate/api/beneficiaries?phoneno=${OWNER_MOBILE}&dob=1988-03-14`,
];

describe('authorization', () => {
  it.each(PROTECTED)('%s: no token → 401, wrong role → 403', async (url) => {
    expect((await get(url)).statusCode).toBe(401);
    expect((await get(url, 'not-a-jwt')).statusCode).toBe(401);
    const wrong = await get(url, tokens.wrongRole);
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json()).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('lets the owner, the print desk and service accounts download; another citizen gets 404', async () => {
    const byId = `/certificate/api/certificatePDF?certificateId=${certificateIds[1]}`;
    for (const url of [`/certificate/api/certificatePDF/${code}`, `/certificate/api/certificateQRCode/${code}`, byId]) {
      for (const who of ['owner', 'printDesk', 'service'])
        expect((await get(url, tokens[who])).statusCode, `${who} ${url}`).toBe(200);
      const stranger = await get(url, tokens.otherCitizen);
      expect(stranger.statusCode).toBe(404);
      expect(stranger.json()).toMatchObject({ code: 'NOT_FOUND' });
    }
    // Someone else's certificate reads exactly like one that does not exist: existence does not leak.
    const someoneElses = await get(`/certificate/api/certificatePDF/${otherCode}`, tokens.owner);
    const missing = await get(`/certificate/api/certificatePDF/NOPE-${run}`, tokens.owner);
    expect([someoneElses.statusCode, missing.statusCode]).toEqual([404, 404]);
    expect(someoneElses.json().message.replace(otherCode, 'X')).toBe(
      missing.json().message.replace(`NOPE-${run}`, 'X'),
    );
  });

  it('keeps the print-desk search to print staff and service accounts', async () => {
    expect(
      (await get(`/certificate/api/beneficiaries?phoneno=${OWNER_MOBILE}&dob=1988-03-14`, tokens.owner)).statusCode,
    ).toBe(403);
    const found = await get(
      `/certificate/api/beneficiaries?phoneno=%2B91${OWNER_MOBILE}&dob=1988-03-14`,
      tokens.printDesk,
    );
    expect(found.statusCode).toBe(200);
    expect(found.json()).toEqual([
      { preEnrollmentCode: code, name: 'Ananya Raghavan', gender: 'Female', dob: '1988-03-14' },
    ]);
    expect(
      (await get(`/certificate/api/beneficiaries?phoneno=${OWNER_MOBILE}&dob=1990-01-01`, tokens.printDesk)).json(),
    ).toEqual([]);
    expect((await get(`/certificate/api/beneficiaries?phoneno=abc&dob=1988-03-14`, tokens.printDesk)).statusCode).toBe(
      400,
    );
  });
});

describe('downloads', () => {
  it('serves the latest certificate: the highest dose', async () => {
    const response = await get(`/certificate/api/certificatePDF/${code}`, tokens.owner);
    expect(response.headers['content-type']).toBe('application/pdf');
    expect(response.headers['content-disposition']).toContain(certificateIds[1]);
    expect(response.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
    expect((await get(`/certificate/api/certificatePDF/${code}?lang=hi`, tokens.owner)).statusCode).toBe(200);
    expect((await get(`/certificate/api/certificatePDF/${code}?lang=xx`, tokens.owner)).statusCode).toBe(400);
  });

  it('serves a QR code that an independent reader decodes to the credential', async () => {
    const response = await get(`/certificate/api/certificateQRCode/${code}`, tokens.owner);
    expect(response.headers['content-type']).toBe('image/png');
    const image = PNG.sync.read(response.rawPayload);
    const decoded = jsQR(new Uint8ClampedArray(image.data), image.width, image.height);
    expect(decoded).not.toBeNull();
    const { rows } = await t.adapters.db.query<{ credential: Json }>(
      'SELECT credential FROM certificates WHERE certificate_id = $1',
      [certificateIds[1]],
    );
    expect(
      Buffer.from(decoded?.binaryData ?? []).equals(
        Buffer.from((await credentialQr(rows[0]?.credential as object)).bytes),
      ),
    ).toBe(true);
  });

  it('answers HEAD with 200 or 404 without rendering anything', async () => {
    const before = renders;
    expect((await get(`/certificate/api/certificatePDF/${code}`, tokens.owner, 'HEAD')).statusCode).toBe(200);
    expect((await get(`/certificate/api/certificatePDF/NOPE-${run}`, tokens.owner, 'HEAD')).statusCode).toBe(404);
    expect((await get(`/certificate/api/certificatePDF/${otherCode}`, tokens.owner, 'HEAD')).statusCode).toBe(404);
    expect(renders).toBe(before);
  });

  it('serves a cached rendering until a new certificate for the beneficiary arrives', async () => {
    const first = await get(`/certificate/api/certificatePDF/${code}?lang=en`, tokens.service);
    const before = renders;
    await get(`/certificate/api/certificatePDF/${code}?lang=en`, tokens.service);
    expect(renders).toBe(before);
    // A `certified` event for the beneficiary drops the renderings (its dose history changed).
    await t.adapters.bus.publish(TOPICS.certified, [{ key: code, value: '{}' }]);
    await eventually(async () => {
      await get(`/certificate/api/certificatePDF/${code}?lang=en`, tokens.service);
      return renders > before ? true : undefined;
    });
    expect(first.statusCode).toBe(200);
  });

  it('never serves a certificate that is not active', async () => {
    await t.adapters.db.query(`UPDATE certificates SET status = 'revoked' WHERE certificate_id = $1`, [
      certificateIds[0],
    ]);
    expect(
      (await get(`/certificate/api/certificatePDF?certificateId=${certificateIds[0]}`, tokens.service)).statusCode,
    ).toBe(404);
    await t.adapters.db.query(`UPDATE certificates SET status = 'active' WHERE certificate_id = $1`, [
      certificateIds[0],
    ]);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const response = await get('/certificate/api/nothing');
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('verification', () => {
  const verify = (payload: Buffer | object, contentType: string) =>
    api.http.inject({
      method: 'POST',
      url: '/certificate/api/verify',
      payload: payload as Buffer,
      headers: { 'content-type': contentType },
    });

  const issued = async () =>
    (
      await t.adapters.db.query<{ credential: Json }>('SELECT credential FROM certificates WHERE certificate_id = $1', [
        certificateIds[1],
      ])
    ).rows[0]?.credential as Json;

  it('accepts a QR image, the raw QR payload or the credential JSON', async () => {
    const credential = await issued();
    const png = (await get(`/certificate/api/certificateQRCode/${code}`, tokens.owner)).rawPayload;
    const { bytes } = await credentialQr(credential);
    for (const [payload, type] of [
      [png, 'image/png'],
      [Buffer.from(bytes), 'application/octet-stream'],
      [credential, 'application/json'],
    ] as const) {
      const response = await verify(payload, type);
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({
        valid: true,
        status: 'valid',
        certificate: { certificateId: certificateIds[1] },
      });
    }
  });

  it('says why a certificate is invalid: tampered, foreign key, unknown context, malformed', async () => {
    const credential = await issued();
    const tampered = structuredClone(credential);
    tampered.evidence[0].dose = 1;
    expect((await verify(tampered, 'application/json')).json()).toMatchObject({
      valid: false,
      reason: 'bad-signature',
    });
    const { proof: _proof, ...unsigned } = credential;
    const foreign = await signCredential(unsigned as never, { key: generateSigningKey('ED25519') });
    expect((await verify(foreign, 'application/json')).json()).toMatchObject({ valid: false, reason: 'unknown-key' });
    const unknownContext = { ...credential, '@context': [...credential['@context'], 'https://example.org/other/v1'] };
    expect((await verify(unknownContext, 'application/json')).json()).toMatchObject({
      valid: false,
      reason: 'unknown-context',
    });
    expect((await verify(Buffer.from('not a qr'), 'application/octet-stream')).json()).toMatchObject({
      valid: false,
      reason: 'malformed',
    });
    const brokenPng = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      Buffer.alloc(64, 7),
    ]);
    expect((await verify(brokenPng, 'image/png')).json()).toMatchObject({ valid: false, reason: 'malformed' });
  });

  it('publishes the issuer keys at /.well-known/did.json', async () => {
    const response = await get('/.well-known/did.json');
    expect(response.statusCode).toBe(200);
    const document = response.json() as Json;
    expect(document.id).toBe(t.env.CERTIFICATE_ISSUER);
    expect(document.assertionMethod).toEqual([`${t.env.CERTIFICATE_ISSUER}#${t.key.keyId}`]);
  });
});
