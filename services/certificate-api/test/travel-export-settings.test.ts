import { createPublicKey } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDsc } from '@divoc/eu-dcc';
import { EnvironmentError, parseEnv } from '@divoc/platform';
import { generateShcKey } from '@divoc/shc';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTravelExportKeys } from '../src/exports/keys.js';
import { CertificateApiEnv, loadExportKeys, shcIssuer } from '../src/settings.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'divoc-export-keys-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const production = { DATABASE_URL: 'postgres://db/divoc', KAFKA_BROKERS: 'kafka:9092' };

describe('SHC issuer', () => {
  it('is SHC_ISSUER when set, without a trailing slash', () => {
    const env = parseEnv(CertificateApiEnv, { ...production, SHC_ISSUER: 'https://certs.health.example/' });
    expect(shcIssuer(env, 4321)).toBe('https://certs.health.example');
  });

  it('follows a did:web or URL CERTIFICATE_ISSUER in a deployment', () => {
    const didWeb = parseEnv(CertificateApiEnv, { ...production, CERTIFICATE_ISSUER: 'did:web:moh.example:certs' });
    expect(shcIssuer(didWeb, 4321)).toBe('https://moh.example/certs');
    const url = parseEnv(CertificateApiEnv, { ...production, CERTIFICATE_ISSUER: 'https://moh.example/' });
    expect(shcIssuer(url, 4321)).toBe('https://moh.example');
  });

  it('is the local certificate-api in embedded mode', () => {
    expect(shcIssuer(parseEnv(CertificateApiEnv, {}), 4400)).toBe('http://localhost:4400');
  });

  it('must be set when CERTIFICATE_ISSUER cannot give one', () => {
    const env = parseEnv(CertificateApiEnv, { ...production, CERTIFICATE_ISSUER: 'did:key:z6Mk' });
    expect(() => shcIssuer(env, 4321)).toThrow(/SHC_ISSUER is required/);
  });
});

describe('export keys', () => {
  it('are off in a deployment that configures none', async () => {
    const keys = await loadExportKeys(parseEnv(CertificateApiEnv, production));
    expect(keys.euDsc).toBeUndefined();
    expect(keys.shc).toBeUndefined();
  });

  it('are created once in embedded mode and reused after a restart', async () => {
    const dir = tempDir();
    const env = parseEnv(CertificateApiEnv, { DIVOC_DATA_DIR: dir, FACILITY_COUNTRY_CODE: 'LKA' });
    const first = await loadExportKeys(env);
    const second = await loadExportKeys(env);
    expect(first.euDsc?.algorithm).toBe('ES256');
    expect(first.euDsc?.certificate.subject).toContain('C=LK');
    expect(Buffer.from(second.euDsc?.kid ?? []).toString('hex')).toBe(
      Buffer.from(first.euDsc?.kid ?? []).toString('hex'),
    );
    expect(second.shc?.current.kid).toBe(first.shc?.current.kid);
    // Outside the credential key directory, whose every PEM would be trusted as a credential key.
    expect(existsSync(join(dir, 'travel-keys', 'shc.key.pem'))).toBe(true);
    expect(existsSync(join(dir, 'keys'))).toBe(false);
  });

  it('take the DSC, its key and the SHC key from the environment', async () => {
    const dsc = await generateDsc({ subject: { C: 'JM', O: 'Ministry of Health', CN: 'DSC 1' } });
    const shc = await generateShcKey();
    const retired = await generateShcKey();
    const keys = await loadTravelExportKeys({
      euCertificate: dsc.certificatePem,
      euPrivateKey: dsc.privateKeyPem,
      shcPrivateKey: shc.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      shcRetiredPublicKeys: createPublicKey(retired.privateKey).export({ format: 'pem', type: 'spki' }).toString(),
    });
    expect(Buffer.from(keys.euDsc?.kid ?? []).toString('base64')).toBe(dsc.kid);
    expect(keys.shc?.current.kid).toBe(shc.kid);
    expect(keys.shc?.retired.map((jwk) => jwk.kid)).toEqual([retired.kid]);
  });

  it('refuse a half or mismatched configuration, naming the variables', async () => {
    const dsc = await generateDsc({ subject: { C: 'PH', O: 'DOH', CN: 'DSC' } });
    const other = await generateDsc({ subject: { C: 'PH', O: 'DOH', CN: 'Other' } });
    await expect(loadTravelExportKeys({ euCertificate: dsc.certificatePem })).rejects.toThrow(
      /EU_CERTIFICATE_PUBLIC_KEY and EU_CERTIFICATE_PRIVATE_KEY go together/,
    );
    await expect(
      loadTravelExportKeys({ euCertificate: dsc.certificatePem, euPrivateKey: other.privateKeyPem }),
    ).rejects.toThrow(EnvironmentError);
    await expect(loadTravelExportKeys({ shcPrivateKey: 'not a key' })).rejects.toThrow(/SHC_CERTIFICATE_PRIVATE_KEY/);
    const rsa = await generateDsc({
      subject: { C: 'PH', O: 'DOH', CN: 'RSA' },
      algorithm: 'PS256',
      rsaModulusLength: 2048,
    });
    await expect(loadTravelExportKeys({ shcPrivateKey: rsa.privateKeyPem })).rejects.toThrow(/P-256/);
  });
});
