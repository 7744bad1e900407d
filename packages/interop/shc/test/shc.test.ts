import { inflateRawSync } from 'node:zlib';
import { normaliseName, ShcVaccineCodeConfig } from '@divoc/contracts';
import { calculateJwkThumbprint, compactVerify, createLocalJWKSet, decodeProtectedHeader } from 'jose';
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { readFixture, readJsonFixture } from '../../../../test-fixtures/index.js';
import {
  buildShcBundle,
  CVX_SYSTEM,
  decodeShcQr,
  exportShc,
  generateShcKey,
  MAX_SINGLE_QR_JWS,
  type ShcBundle,
  ShcError,
  ShcMappingError,
  shcJwks,
  shcQrContent,
  shcQrMatrix,
  shcQrPng,
  splitName,
  verifyShc,
  verifyShcQr,
} from '../src/index.js';
import { credentialFor, ISSUED_AT, ISSUER, maps, readEtcdDefault, vaccineIcd } from './support.js';

const jsQR = jsQRModule.default;
const config = { issuer: ISSUER, maps };

describe('the SMART Health Cards spec example chain (test-fixtures/public/shc)', () => {
  const qr = readFixture('shc', 'example-00-f-qr-code-numeric-value-0.txt').trim();
  const jws = readFixture('shc', 'example-00-d-jws.txt').trim();
  const jwks = readJsonFixture('shc', 'issuer', '.well-known', 'jwks.json');
  const minified = readFixture('shc', 'example-00-c-jws-payload-minified.json').trim();

  it('numeric QR content → the JWS', () => {
    expect(decodeShcQr(qr)).toBe(jws);
    expect(shcQrContent(jws)).toBe(qr);
  });

  it('verifies with the issuer JWKS through our decoder; the payload equals the minified example', async () => {
    const { header, payload } = await verifyShcQr(qr, {
      jwks,
      issuer: 'https://spec.smarthealth.cards/examples/issuer/',
      now: new Date('2023-07-01T00:00:00Z'),
    });
    expect(header).toEqual({ alg: 'ES256', zip: 'DEF', kid: '3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s' });
    expect(payload).toEqual(JSON.parse(minified));
    expect(JSON.stringify(payload)).toBe(minified);
  });

  it('is refused with a JWKS that lacks the key, and when tampered with', async () => {
    await expect(verifyShc(jws, { jwks: { keys: [] } })).rejects.toThrow(
      expect.objectContaining({ code: 'SIGNATURE' }),
    );
    const [h, p, s] = jws.split('.') as [string, string, string];
    const flipped = `${h}.${p.slice(0, 10)}${p[10] === 'A' ? 'B' : 'A'}${p.slice(11)}.${s}`;
    await expect(verifyShc(flipped, { jwks })).rejects.toThrow(ShcError);
  });

  it('has the kid the RFC 7638 thumbprint of each JWKS key', async () => {
    for (const key of (jwks as { keys: { kid: string }[] }).keys) {
      expect(await calculateJwkThumbprint(key as never)).toBe(key.kid);
    }
  });
});

describe('SHC export of our credentials', () => {
  it('signs a JWS that jose verifies directly against our JWKS, with header {alg, zip, kid thumbprint}', async () => {
    const key = await generateShcKey();
    const { jws, payload } = await exportShc([credentialFor(0), credentialFor(1)], config, key, ISSUED_AT);
    const jwks = shcJwks([key]);
    const { payload: compressed, protectedHeader } = await compactVerify(jws, createLocalJWKSet(jwks));
    expect(protectedHeader).toEqual({
      alg: 'ES256',
      zip: 'DEF',
      kid: await calculateJwkThumbprint(jwks.keys[0] as never),
    });
    const inflated = inflateRawSync(compressed).toString('utf8');
    expect(JSON.parse(inflated)).toEqual(payload);
    expect(inflated).toBe(JSON.stringify(payload)); // minified: no whitespace
    expect(payload).toMatchObject({
      iss: 'https://divoc.example',
      nbf: ISSUED_AT.getTime() / 1000,
      vc: { type: ['https://smarthealth.cards#health-card'], credentialSubject: { fhirVersion: '4.0.1' } },
    });
  });

  it('verifies through our own decoder from the shc:/ QR content', async () => {
    const key = await generateShcKey();
    const { jws, payload } = await exportShc([credentialFor(1)], config, key, ISSUED_AT);
    const verified = await verifyShcQr(shcQrContent(jws), {
      jwks: shcJwks([key]),
      issuer: `${ISSUER}/`,
      now: ISSUED_AT,
    });
    expect(verified.payload).toEqual(payload);
    await expect(verifyShc(jws, { jwks: shcJwks([key]), issuer: 'https://other.example' })).rejects.toThrow(
      expect.objectContaining({ code: 'CLAIMS' }),
    );
    await expect(verifyShc(jws, { jwks: shcJwks([await generateShcKey()]) })).rejects.toThrow(
      expect.objectContaining({ code: 'SIGNATURE' }),
    );
  });

  it('publishes a JWKS with public keys only: kty EC, crv P-256, use sig, alg ES256, kid thumbprint, no d', async () => {
    const key = await generateShcKey();
    const jwks = shcJwks([key, key.publicJwk]);
    for (const jwk of jwks.keys) {
      expect(Object.keys(jwk).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
      expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', use: 'sig', alg: 'ES256', kid: key.kid });
      expect(await calculateJwkThumbprint(jwk)).toBe(jwk.kid);
    }
  });

  it.each([
    ['dose 1', [0]],
    ['dose 2', [1]],
    ['both doses', [0, 1]],
  ])(`keeps the JWS of %s within ${MAX_SINGLE_QR_JWS} characters (one QR code)`, async (_label, doses) => {
    const key = await generateShcKey();
    const { jws } = await exportShc(
      doses.map((dose) => credentialFor(dose)),
      config,
      key,
      ISSUED_AT,
    );
    expect(jws.length).toBeLessThanOrEqual(MAX_SINGLE_QR_JWS);
    expect(shcQrMatrix(jws).version).toBeLessThanOrEqual(22);
    expect(decodeProtectedHeader(jws).zip).toBe('DEF');
  });

  it('writes a QR code (byte "shc:/" + numeric segment) that jsQR reads back', async () => {
    const key = await generateShcKey();
    const { jws } = await exportShc([credentialFor(0)], config, key, ISSUED_AT);
    const image = PNG.sync.read(shcQrPng(jws));
    const code = jsQR(new Uint8ClampedArray(image.data), image.width, image.height);
    expect(code?.data).toBe(shcQrContent(jws));
    expect(code?.chunks.map((chunk) => chunk.type)).toEqual(['byte', 'numeric']);
    expect(decodeShcQr(code?.data as string)).toBe(jws);
  });

  it('throws a typed error naming shcVaccineCode for a vaccine missing from the map', async () => {
    const run = () => buildShcBundle([credentialFor(0)], { maps: { shcVaccineCode: { covaxin: '502' } } });
    expect(run).toThrow(ShcMappingError);
    expect(run).toThrow(
      expect.objectContaining({ code: 'SHC_UNMAPPED', etcdKey: 'shcVaccineCode', value: 'Covishield' }),
    );
    expect(run).toThrow(/etcd key shcVaccineCode/);
  });

  it.each(['shc:/1/2/5676', 'shc:/567', 'shc:/5678', 'SHC:/56', 'https://x'])('refuses QR content %s', (content) => {
    expect(() => decodeShcQr(content)).toThrow(expect.objectContaining({ code: 'QR' }));
  });
});

/** Every `resource:N` reference and the SHC minification rules, checked on the inflated bundle. */
const conformanceProblems = (bundle: ShcBundle): string[] => {
  const problems: string[] = [];
  const urls = bundle.entry.map((entry) => entry.fullUrl);
  if (bundle.resourceType !== 'Bundle' || bundle.type !== 'collection') problems.push('not a collection Bundle');
  for (const [index, url] of urls.entries()) {
    if (url !== `resource:${index}`) problems.push(`entry ${index} has fullUrl ${url}`);
  }
  const walk = (value: unknown, path: string, parentKey: string): void => {
    if (Array.isArray(value)) {
      for (const [index, item] of value.entries()) walk(item, `${path}[${index}]`, parentKey);
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    const object = value as Record<string, unknown>;
    for (const forbidden of ['id', 'meta', 'text'])
      if (forbidden in object) problems.push(`${path}.${forbidden} is present`);
    if (parentKey === 'coding' && 'display' in object) problems.push(`${path}.display is present on a Coding`);
    if (typeof object.reference === 'string' && !urls.includes(object.reference)) {
      problems.push(`${path}.reference ${object.reference} does not resolve`);
    }
    for (const [key, member] of Object.entries(object)) walk(member, `${path}.${key}`, key);
  };
  for (const [index, entry] of bundle.entry.entries()) walk(entry.resource, `entry[${index}].resource`, '');
  const [patient, ...immunizations] = bundle.entry.map((entry) => entry.resource);
  if (patient?.resourceType !== 'Patient') problems.push('entry 0 is not the Patient');
  else {
    if (!patient.name?.[0]?.family && !patient.name?.[0]?.given?.length) problems.push('Patient.name is empty');
    if (!patient.birthDate) problems.push('Patient.birthDate is missing');
  }
  if (immunizations.length === 0) problems.push('no Immunization');
  for (const [index, resource] of immunizations.entries()) {
    const at = `Immunization ${index + 1}`;
    if (resource.resourceType !== 'Immunization') {
      problems.push(`${at} is a ${resource.resourceType}`);
      continue;
    }
    if (resource.status !== 'completed') problems.push(`${at}.status is not completed`);
    if (!resource.vaccineCode?.coding?.some((coding) => coding.system === CVX_SYSTEM && /^\d+$/.test(coding.code))) {
      problems.push(`${at} has no CVX vaccineCode`);
    }
    if (resource.patient?.reference !== 'resource:0') problems.push(`${at}.patient is not resource:0`);
    if (!/^\d{4}-\d{2}-\d{2}/.test(resource.occurrenceDateTime ?? ''))
      problems.push(`${at}.occurrenceDateTime is missing`);
    if (!resource.performer?.[0]?.actor?.display) problems.push(`${at}.performer[0].actor.display is missing`);
    if (!resource.lotNumber) problems.push(`${at}.lotNumber is missing`);
  }
  return problems;
};

describe('the SHC bundle', () => {
  it('conforms to the vaccination profile rules we can check, after a sign/verify round trip', async () => {
    const key = await generateShcKey();
    const { jws } = await exportShc([credentialFor(1), credentialFor(0)], config, key, ISSUED_AT);
    const { payload } = await verifyShc(jws, { jwks: shcJwks([key]) });
    const bundle = payload.vc.credentialSubject.fhirBundle;
    expect(conformanceProblems(bundle)).toEqual([]);
    expect(bundle.entry.map((entry) => entry.resource)).toEqual([
      { resourceType: 'Patient', name: [{ family: 'Raghavan', given: ['Ananya'] }], birthDate: '1988-03-14' },
      {
        resourceType: 'Immunization',
        status: 'completed',
        vaccineCode: { coding: [{ system: CVX_SYSTEM, code: '210' }] },
        patient: { reference: 'resource:0' },
        occurrenceDateTime: '2021-05-10',
        performer: [{ actor: { display: 'Primary Health Centre Indiranagar' } }],
        lotNumber: '4121Z025',
      },
      expect.objectContaining({ occurrenceDateTime: '2021-08-09', lotNumber: '4121Z098' }),
    ]);
  });

  it('the checker itself finds broken references and forbidden elements', () => {
    const bundle = buildShcBundle([credentialFor(0)], { maps });
    const broken = structuredClone(bundle) as unknown as { entry: { resource: Record<string, unknown> }[] };
    (broken.entry[1] as { resource: Record<string, unknown> }).resource.patient = { reference: 'resource:7' };
    (broken.entry[0] as { resource: Record<string, unknown> }).resource.id = 'p1';
    expect(conformanceProblems(broken as unknown as ShcBundle)).toEqual([
      'entry[0].resource.id is present',
      'entry[1].resource.patient.reference resource:7 does not resolve',
      'Immunization 1.patient is not resource:0',
    ]);
  });

  it('refuses credentials of different people in one card', () => {
    const other = credentialFor(1, (request) => ({ ...request, preEnrollmentCode: 'OTHER-1' }));
    expect(() => buildShcBundle([credentialFor(0), other], { maps })).toThrow(/same person/);
  });

  it.each([
    ['Ananya Raghavan', { family: 'Raghavan', given: ['Ananya'] }],
    ['  Priya  K  Nair ', { family: 'Nair', given: ['Priya', 'K'] }],
    ['Madonna', { family: 'Madonna' }],
  ])('splits "%s" into family and given names', (name, expected) => {
    expect(splitName(name)).toEqual(expected);
  });
});

describe('shcVaccineCode defaults', () => {
  it('parse with the contracts schema and cover every VACCINE_ICD name and alias', () => {
    const map = ShcVaccineCodeConfig.parse(readEtcdDefault('shcVaccineCode'));
    const names = vaccineIcd.flatMap((entry) => [entry.vaccineName, ...(entry.aliases ?? [])]).map(normaliseName);
    expect(Object.keys(map).sort()).toEqual([...names].sort());
  });

  it('use the CVX codes of the CDC/WHO DDCC code list', () => {
    expect(maps.shcVaccineCode).toMatchObject({
      pfizer: '208',
      moderna: '207',
      janssen: '212',
      astrazeneca: '210',
      covishield: '210',
      novavax: '211',
      covaxin: '502',
      'sputnik v': '505',
      cansino: '506',
      sinopharm: '510',
      sinovac: '511',
      'zycov-d': '514',
      corbevax: '517',
    });
  });
});
