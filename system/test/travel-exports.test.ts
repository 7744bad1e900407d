import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { loadTravelExportKeys, type TravelExportKeys } from '@divoc/certificate-api';
import type { CertificationRequestV2 } from '@divoc/contracts';
import { assertValidDccPayload, isValidUvci, trustDsc, verifyHc1 } from '@divoc/eu-dcc';
import { decodeShcQr, MAX_SINGLE_QR_JWS } from '@divoc/shc';
import { compactVerify, createRemoteJWKSet, decodeProtectedHeader } from 'jose';
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
 * The travel exports end to end (issue 9): certificates issued through the pipeline, exported by
 * certificate-api as EU-DCC, SMART Health Card and WHO DDCC FHIR, and checked the way a verifier in the
 * destination country would — the SHC against the JWKS fetched over HTTP from `<iss>/.well-known/jwks.json`.
 */
const jsQR = jsQRModule.default;
type Json = Record<string, any>;
let t: TestSystem;
let api: Awaited<ReturnType<TestSystem['system']['make']['certificateApi']>>;
let gateway: Awaited<ReturnType<TestSystem['system']['make']['vaccinationApi']>>;
let stopAll: () => Promise<void>;
let keys: TravelExportKeys;
let keyDir: string;
let base: string;
const run = Date.now().toString(36).toUpperCase();
const MOBILE = '9000054321';
const code = `TRAVEL-${run}`;
const tokens: Record<string, string> = {};

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

const call = (method: 'GET' | 'POST', url: string, token = tokens.owner, payload?: object) =>
  api.http.inject({
    method,
    url,
    ...(payload === undefined ? {} : { payload }),
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });

const qrText = (png: Buffer): string | undefined => {
  const image = PNG.sync.read(png);
  return jsQR(new Uint8ClampedArray(image.data), image.width, image.height)?.data;
};

beforeAll(async () => {
  t = await startTestSystem();
  keyDir = mkdtempSync(join(tmpdir(), 'divoc-travel-keys-'));
  keys = await loadTravelExportKeys({ developmentDirectory: keyDir, developmentCountry: 'IN' });
  const ddcc = await loadFixture<CertificationRequestV2[]>('certify-v3-ddcc.json');
  gateway = await t.system.make.vaccinationApi({ outboxSweepIntervalMs: 0 });
  const signer = await t.system.make.signer();
  const processor = await t.system.make.processor();
  const port = await freePort();
  base = `http://localhost:${port}`;
  api = await t.system.make.certificateApi({ port, exportKeys: keys, shcIssuer: base });
  await Promise.all([signer.start(), processor.start(), api.start()]);
  await api.http.listen({ port, host: '127.0.0.1' });
  stopAll = async () => {
    await api.stop();
    await processor.stop();
    await signer.stop();
    await gateway.stop();
  };
  tokens.staff = await t.token(['facility-staff']);
  tokens.owner = await t.token(['recipient'], { mobile: MOBILE });
  tokens.otherCitizen = await t.token(['recipient'], { mobile: '9111111111' });
  tokens.service = await t.token(['api']);
  const items = [0, 1].map((index) => ({
    ...structuredClone(ddcc[index] as CertificationRequestV2),
    preEnrollmentCode: code,
    recipient: { ...structuredClone((ddcc[index] as CertificationRequestV2).recipient), contact: [`tel:${MOBILE}`] },
  }));
  const settled = await settledRequests(t, await submitCertify(gateway.http, tokens.staff as string, items));
  expect(settled.map((request) => request.status)).toEqual(['issued', 'issued']);
});

afterAll(async () => {
  await stopAll?.();
  await t?.close();
  if (keyDir) rmSync(keyDir, { recursive: true, force: true });
});

describe('POST /certificate/api/eu-certificate', () => {
  const url = (type: string) => `/certificate/api/eu-certificate?refId=${code}&type=${type}`;

  it('exports the latest dose as a valid, verifiable EU-DCC with the transliterated names', async () => {
    const response = await call('POST', url('text'), tokens.owner, { fn: 'Rāghavan', gn: 'Ananya' });
    expect(response.statusCode, response.body).toBe(200);
    const hc1 = response.body;
    expect(hc1.startsWith('HC1:')).toBe(true);
    const dsc = keys.euDsc?.certificate;
    if (dsc === undefined) throw new Error('no DSC');
    const dcc = verifyHc1(hc1, { trusted: [trustDsc(dsc)] }).payload as Json;
    expect(() => assertValidDccPayload(dcc as never)).not.toThrow();
    expect(dcc.nam).toEqual({ fn: 'Rāghavan', fnt: 'RAGHAVAN', gn: 'Ananya', gnt: 'ANANYA' });
    expect(dcc.dob).toBe('1988-03-14');
    expect(dcc.v[0]).toMatchObject({ tg: '840539006', mp: 'Covishield', dn: 2, co: 'IN' });
    expect(isValidUvci(dcc.v[0].ci)).toBe(true);
  });

  it('answers the QR as a PNG that scans back to the HC1 text, and the PDF variant', async () => {
    const names = { fn: 'Raghavan', fnt: 'RAGHAVAN' };
    const png = await call('POST', url('qrcode'), tokens.service, names);
    expect(png.statusCode).toBe(200);
    expect(png.headers['content-type']).toBe('image/png');
    expect(qrText(png.rawPayload)).toMatch(/^HC1:/);
    const pdf = await call('POST', url('pdf'), tokens.owner, names);
    expect(pdf.statusCode).toBe(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect(pdf.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
  });

  it('rejects names that break ICAO 9303, naming the field', async () => {
    const response = await call('POST', url('text'), tokens.owner, { fn: 'Raghavan', fnt: 'raghavan' });
    expect(response.statusCode).toBe(422);
    expect(response.json().details).toContainEqual(expect.objectContaining({ path: 'fnt' }));
    const missing = await call('POST', url('text'), tokens.owner, { gn: 'Ananya' });
    expect(missing.statusCode).toBe(422);
    expect(JSON.stringify(missing.json().details)).toContain('fn');
  });

  it('answers 422 naming the etcd key for a vaccine missing from the maps, never an empty code', async () => {
    const original = t.system.registry.get(t.system.keys.euVaccineCode);
    const { covishield: _removed, ...withoutCovishield } = original as Record<string, string>;
    await t.adapters.config.put('euVaccineCode', JSON.stringify(withoutCovishield));
    try {
      await eventually(async () =>
        'covishield' in t.system.registry.get(t.system.keys.euVaccineCode) ? undefined : true,
      );
      const response = await call('POST', url('text'), tokens.owner, { fn: 'Raghavan' });
      expect(response.statusCode).toBe(422);
      expect(response.json()).toMatchObject({ code: 'EU_DCC_UNMAPPED' });
      expect(response.json().message).toContain('euVaccineCode');
      expect(response.json().details[0].path).toBe('v[0].mp');
    } finally {
      await t.adapters.config.put('euVaccineCode', JSON.stringify(original));
      await eventually(async () =>
        'covishield' in t.system.registry.get(t.system.keys.euVaccineCode) ? true : undefined,
      );
    }
  });
});

describe('GET /certificate/api/shc-certificate and /.well-known/jwks.json', () => {
  it('verifies with jose against the JWKS served over HTTP at <iss>/.well-known/jwks.json', async () => {
    const response = await call('GET', `/certificate/api/shc-certificate?refId=${code}&type=text`);
    expect(response.statusCode, response.body).toBe(200);
    const jws = decodeShcQr(response.body);
    expect(jws.length).toBeLessThanOrEqual(MAX_SINGLE_QR_JWS);
    const header = decodeProtectedHeader(jws);
    expect(header).toMatchObject({ alg: 'ES256', zip: 'DEF', kid: keys.shc?.current.kid });
    // A standard verifier reads iss from the (unverified) payload, fetches the issuer's JWKS and checks.
    const [, payloadPart] = jws.split('.');
    const claimedIss = JSON.parse(inflateRawSync(Buffer.from(payloadPart as string, 'base64url')).toString()).iss;
    expect(claimedIss).toBe(base);
    const jwks = createRemoteJWKSet(new URL(`${claimedIss}/.well-known/jwks.json`));
    const { payload } = await compactVerify(jws, jwks, { algorithms: ['ES256'] });
    const card = JSON.parse(inflateRawSync(payload).toString('utf8'));
    expect(card.vc.type).toContain('https://smarthealth.cards#health-card');
    expect(card.vc.credentialSubject.fhirVersion).toBe('4.0.1');
    const bundle = card.vc.credentialSubject.fhirBundle;
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
    // The shc-vaccination profile: Patient at resource:0, each Immunization pointing at it.
    expect(bundle.entry[0]).toMatchObject({ fullUrl: 'resource:0', resource: { resourceType: 'Patient' } });
    expect(bundle.entry[0].resource.birthDate).toBe('1988-03-14');
    const immunizations = bundle.entry.slice(1);
    expect(immunizations).toHaveLength(2);
    for (const [index, entry] of immunizations.entries()) {
      expect(entry.fullUrl).toBe(`resource:${index + 1}`);
      expect(entry.resource).toMatchObject({
        resourceType: 'Immunization',
        status: 'completed',
        patient: { reference: 'resource:0' },
        vaccineCode: { coding: [{ system: 'http://hl7.org/fhir/sid/cvx', code: '210' }] },
      });
      expect(entry.resource.occurrenceDateTime).toMatch(/^\d{4}-\d{2}-\d{2}/);
      expect(entry.resource.id).toBeUndefined();
    }
  });

  it('publishes only public keys, with CORS for browser verifiers', async () => {
    const response = await fetch(`${base}/.well-known/jwks.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    const { keys: published } = (await response.json()) as { keys: Json[] };
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ kty: 'EC', crv: 'P-256', use: 'sig', alg: 'ES256' });
    expect(published[0]?.d).toBeUndefined();
  });

  it('answers the QR as a numeric shc:/ PNG and the PDF variant', async () => {
    const png = await call('GET', `/certificate/api/shc-certificate?refId=${code}&type=qrcode`);
    expect(png.statusCode).toBe(200);
    expect(qrText(png.rawPayload)).toMatch(/^shc:\/\d+$/);
    const pdf = await call('GET', `/certificate/api/shc-certificate?refId=${code}`);
    expect(pdf.headers['content-type']).toBe('application/pdf');
  });
});

describe('GET /certificate/api/fhir-certificate', () => {
  it('returns the WHO DDCC:VS document with the signed QR codes', async () => {
    const response = await call('GET', `/certificate/api/fhir-certificate?refId=${code}`, tokens.service);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/fhir\+json/);
    const bundle = response.json();
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'document' });
    expect(bundle.entry[0].resource.resourceType).toBe('Composition');
    const immunization = bundle.entry.find((entry: Json) => entry.resource.resourceType === 'Immunization');
    expect(immunization.resource.protocolApplied[0].doseNumberPositiveInt).toBe(2);
    const categories = bundle.entry
      .filter((entry: Json) => entry.resource.resourceType === 'DocumentReference')
      .map((entry: Json) => entry.resource.category[0].coding[0].code);
    expect(categories).toEqual(['divoc', 'shc']);
  });
});

describe('authorization and configuration', () => {
  it.each([
    ['POST', `/certificate/api/eu-certificate?refId=${code}&type=text`],
    ['GET', `/certificate/api/shc-certificate?refId=${code}&type=text`],
    ['GET', `/certificate/api/fhir-certificate?refId=${code}`],
  ] as const)('%s %s: someone else’s certificate is a 404, no token a 401', async (method, url) => {
    const names = method === 'POST' ? { fn: 'Raghavan' } : undefined;
    expect((await call(method, url, tokens.otherCitizen, names)).statusCode).toBe(404);
    expect((await call(method, url, '', names)).statusCode).toBe(401);
  });

  it('answers 503 naming the variables when a deployment has no export keys', async () => {
    const bare = await t.system.make.certificateApi({ exportKeys: {} });
    try {
      const eu = await bare.http.inject({
        method: 'POST',
        url: `/certificate/api/eu-certificate?refId=${code}`,
        payload: { fn: 'Raghavan' },
        headers: { authorization: `Bearer ${tokens.owner}` },
      });
      expect(eu.statusCode).toBe(503);
      expect(eu.json()).toMatchObject({ code: 'EXPORT_NOT_CONFIGURED' });
      expect(eu.json().message).toContain('EU_CERTIFICATE_PRIVATE_KEY');
      const shc = await bare.http.inject({
        method: 'GET',
        url: `/certificate/api/shc-certificate?refId=${code}`,
        headers: { authorization: `Bearer ${tokens.owner}` },
      });
      expect(shc.statusCode).toBe(503);
      expect(shc.json().message).toContain('SHC_CERTIFICATE_PRIVATE_KEY');
      expect((await bare.http.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json()).toEqual({ keys: [] });
    } finally {
      await bare.stop();
    }
  });
});
