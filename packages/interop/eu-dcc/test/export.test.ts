import { X509Certificate } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import cose from 'cose-js';
import { describe, expect, it } from 'vitest';
import {
  base45Decode,
  type CborValue,
  cborToJson,
  createDscSigner,
  decodeCbor,
  dscKid,
  EuDccSchemaError,
  EuDccSignerError,
  exportEuDcc,
  generateDsc,
  Hc1Error,
  signHcert,
  trustDsc,
  verifyHc1,
} from '../src/index.js';
import { credentialFor, exportConfig, ISSUED_AT, names, testDsc, testSigner } from './support.js';

/** Strip `HC1:`, Base45-decode and inflate: the COSE bytes an independent verifier takes. */
const coseBytes = (hc1: string): Buffer => inflateSync(base45Decode(hc1.slice(4)));

const publicJwk = (certificatePem: string) => new X509Certificate(certificatePem).publicKey.export({ format: 'jwk' });

describe('EU-DCC export: sign with our code, verify with cose-js 0.9.0', () => {
  it('ES256: cose-js verifies the signature and returns our CWT', async () => {
    const signer = await testSigner('ES256');
    const { hc1, payload, claims } = exportEuDcc(credentialFor(1), names, exportConfig, signer, ISSUED_AT);
    const jwk = publicJwk((await testDsc('ES256')).certificatePem);
    const verified: Buffer = await cose.sign.verify(coseBytes(hc1), {
      key: { x: Buffer.from(jwk.x as string, 'base64url'), y: Buffer.from(jwk.y as string, 'base64url') },
    });
    const cwt = decodeCbor(verified) as Map<CborValue, CborValue>;
    expect(cwt.get(1)).toBe('IN');
    expect(cwt.get(6)).toBe(claims.iat);
    expect(cwt.get(4)).toBe(claims.exp);
    expect(cborToJson((cwt.get(-260) as Map<CborValue, CborValue>).get(1) as CborValue)).toEqual(payload);
  });

  it('PS256: cose-js verifies the RSASSA-PSS signature (salt 32)', async () => {
    const signer = await testSigner('PS256');
    expect(signer.algorithm).toBe('PS256');
    const { hc1 } = exportEuDcc(credentialFor(0), names, exportConfig, signer, ISSUED_AT);
    const jwk = publicJwk((await testDsc('PS256')).certificatePem);
    await expect(
      cose.sign.verify(coseBytes(hc1), {
        key: {
          n: Buffer.from(jwk.n as string, 'base64url'),
          e: Buffer.from(jwk.e as string, 'base64url').readUIntBE(0, 3),
        },
      }),
    ).resolves.toBeInstanceOf(Buffer);
  });

  it('cose-js rejects the message after one signature byte changes', async () => {
    const signer = await testSigner('ES256');
    const bytes = coseBytes(exportEuDcc(credentialFor(0), names, exportConfig, signer, ISSUED_AT).hc1);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1;
    const jwk = publicJwk((await testDsc('ES256')).certificatePem);
    await expect(
      cose.sign.verify(bytes, {
        key: { x: Buffer.from(jwk.x as string, 'base64url'), y: Buffer.from(jwk.y as string, 'base64url') },
      }),
    ).rejects.toThrow();
  });

  it('writes tag 18, protected header {1: alg, 4: kid} with kid = SHA-256(DSC DER)[0..8], empty unprotected header', async () => {
    const signer = await testSigner('ES256');
    const bytes = coseBytes(exportEuDcc(credentialFor(0), names, exportConfig, signer, ISSUED_AT).hc1);
    expect(bytes.subarray(0, 2).toString('hex')).toBe('d284'); // tag 18, array of 4
    const [protectedBytes, unprotected] = (decodeCbor(bytes) as { value: CborValue[] }).value as [
      Uint8Array,
      Map<CborValue, CborValue>,
    ];
    const header = decodeCbor(protectedBytes) as Map<CborValue, CborValue>;
    expect([...header.keys()]).toEqual([1, 4]);
    expect(header.get(1)).toBe(-7);
    expect(header.get(4)).toEqual(dscKid(new X509Certificate((await testDsc()).certificatePem).raw));
    expect(unprotected.size).toBe(0);
    // deterministic encoding of the CWT: keys 1, 4, 6, -260 in that order
    const payloadBytes = (decodeCbor(bytes) as { value: CborValue[] }).value[2] as Uint8Array;
    expect([...(decodeCbor(payloadBytes) as Map<CborValue, CborValue>).keys()]).toEqual([1, 4, 6, -260]);
  });
});

describe('EU-DCC export: our own decoder', () => {
  it('round-trips payload and claims; exp = iat + EU_CERTIFICATE_EXPIRY months', async () => {
    const signer = await testSigner();
    const exported = exportEuDcc(credentialFor(1), names, exportConfig, signer, ISSUED_AT);
    const verified = verifyHc1(exported.hc1, { trusted: [trustDsc((await testDsc()).certificatePem)], now: ISSUED_AT });
    expect(verified.payload).toEqual(exported.payload);
    expect(verified.claims).toEqual({ iss: 'IN', iat: ISSUED_AT.getTime() / 1000, exp: Date.UTC(2022, 7, 10) / 1000 });
    expect(verified.type).toBe('v');
    expect(verified.algorithm).toBe('ES256');
  });

  it('caps exp at the end of the DSC validity and refuses to sign outside it', async () => {
    const signer = await testSigner();
    const { claims } = exportEuDcc(credentialFor(0), names, { ...exportConfig, expiryMonths: 60 }, signer, ISSUED_AT);
    expect(claims.exp).toBe(Math.floor(new Date(signer.certificate.validTo).getTime() / 1000));
    expect(() => exportEuDcc(credentialFor(0), names, exportConfig, signer, new Date('2030-01-01T00:00:00Z'))).toThrow(
      EuDccSignerError,
    );
  });

  it('is rejected after expiry, by a DSC limited to test certificates, and by an untrusted DSC', async () => {
    const signer = await testSigner();
    const { hc1 } = exportEuDcc(credentialFor(0), names, exportConfig, signer, ISSUED_AT);
    const trusted = [trustDsc((await testDsc()).certificatePem)];
    expect(() => verifyHc1(hc1, { trusted, now: new Date('2022-09-01T00:00:00Z') })).toThrow(
      expect.objectContaining({ stage: 'EXPIRED' }),
    );
    expect(() => verifyHc1(hc1, { trusted, now: new Date('2021-08-01T00:00:00Z') })).toThrow(
      expect.objectContaining({ stage: 'NOT_YET_VALID' }),
    );
    const testOnly = await generateDsc({
      subject: { C: 'IN', O: 'MoHFW', CN: 'tests only' },
      notBefore: new Date('2021-01-01T00:00:00Z'),
      types: ['t'],
    });
    const testSignerOnly = createDscSigner({
      certificate: testOnly.certificatePem,
      privateKey: testOnly.privateKeyPem,
    });
    const fromTestDsc = exportEuDcc(credentialFor(0), names, exportConfig, testSignerOnly, ISSUED_AT).hc1;
    expect(() => verifyHc1(fromTestDsc, { trusted: [trustDsc(testOnly.certificatePem)], now: ISSUED_AT })).toThrow(
      expect.objectContaining({ stage: 'KEY_USAGE' }),
    );
    expect(() => verifyHc1(fromTestDsc, { trusted, now: ISSUED_AT })).toThrow(Hc1Error);
  });

  it('tries every trusted DSC with the same kid (truncated kids can collide)', async () => {
    const signer = await testSigner();
    const { hc1 } = exportEuDcc(credentialFor(0), names, exportConfig, signer, ISSUED_AT);
    const real = trustDsc((await testDsc()).certificatePem);
    const other = trustDsc((await testDsc('PS256')).certificatePem);
    const impostor = { ...other, kid: real.kid };
    expect(verifyHc1(hc1, { trusted: [impostor, real], now: ISSUED_AT }).dsc).toBe(real);
    expect(() => verifyHc1(hc1, { trusted: [impostor], now: ISSUED_AT })).toThrow(
      expect.objectContaining({ stage: 'SIGNATURE' }),
    );
  });

  it('rejects a DSC whose private key does not match, and a key of the wrong type', async () => {
    const es = await testDsc('ES256');
    const ps = await testDsc('PS256');
    expect(() => createDscSigner({ certificate: es.certificatePem, privateKey: ps.privateKeyPem })).toThrow(
      EuDccSignerError,
    );
    expect(() => createDscSigner({ certificate: 'not a certificate', privateKey: es.privateKeyPem })).toThrow(
      EuDccSignerError,
    );
  });

  it('never signs a payload that fails the schema or the value sets', async () => {
    const signer = await testSigner();
    const { payload } = exportEuDcc(credentialFor(0), names, exportConfig, signer, ISSUED_AT);
    const options = { issuerCountry: 'IN', expiryMonths: 12, issuedAt: ISSUED_AT };
    const entry = payload.v?.[0] as NonNullable<typeof payload.v>[number];
    expect(() => signHcert({ ...payload, v: [{ ...entry, vp: 'J07BX03' }] }, signer, options)).toThrow(
      EuDccSchemaError,
    );
    expect(() => signHcert({ ...payload, v: [{ ...entry, mp: 'NVX-CoV2373' }] }, signer, options)).toThrow(/mp/);
    expect(() => signHcert({ ...payload, v: [{ ...entry, dn: 0 }] }, signer, options)).toThrow(/dn/);
    expect(() => signHcert({ ...payload, nam: { fn: 'X', fnt: 'x' } }, signer, options)).toThrow(/fnt/);
    expect(() => signHcert({ ...payload, dob: '1850-01-01' }, signer, options)).toThrow(/dob/);
  });
});
