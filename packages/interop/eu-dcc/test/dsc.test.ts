import { execFileSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DCC_KEY_USAGE, dscKid, generateDsc, trustDsc } from '../src/index.js';

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version']);
    return true;
  } catch {
    return false;
  }
})();

describe('generateDsc', () => {
  it('makes a P-256 key, a CSR and a self-signed DSC with the subject C, ST, L, O, OU, CN', async () => {
    const subject = {
      C: 'IN',
      ST: 'Karnataka',
      L: 'Bengaluru',
      O: 'MoHFW Govt. of India',
      OU: 'DIVOC',
      CN: 'DSC 2021-1',
    };
    const dsc = await generateDsc({ subject, types: ['v'] });
    const certificate = new X509Certificate(dsc.certificatePem);
    expect(certificate.subject.split('\n')).toEqual([
      'C=IN',
      'ST=Karnataka',
      'L=Bengaluru',
      'O=MoHFW Govt. of India',
      'OU=DIVOC',
      'CN=DSC 2021-1',
    ]);
    expect(certificate.issuer).toBe(certificate.subject);
    expect(certificate.verify(certificate.publicKey)).toBe(true);
    expect(certificate.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(certificate.checkPrivateKey(createPrivateKey(dsc.privateKeyPem))).toBe(true);
    expect((certificate as X509Certificate & { keyUsage?: string[] }).keyUsage).toEqual([DCC_KEY_USAGE.v]);
    expect(dsc.kid).toBe(Buffer.from(dscKid(certificate.raw)).toString('base64'));
    expect(trustDsc(dsc.certificatePem).allowedTypes).toEqual(new Set(['v']));
    expect(dsc.csrPem).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----\n/);
    expect(dsc.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
  });

  it.runIf(hasOpenssl)('writes a CSR that OpenSSL reads and verifies, with the same subject', async () => {
    const dsc = await generateDsc({
      subject: { C: 'LK', O: 'Ministry of Health', CN: 'DSC' },
      algorithm: 'PS256',
      rsaModulusLength: 2048,
    });
    const text = execFileSync('openssl', ['req', '-noout', '-verify', '-subject'], { input: dsc.csrPem }).toString();
    expect(text).toMatch(/subject=C\s*=\s*LK, O\s*=\s*Ministry of Health, CN\s*=\s*DSC/);
    expect(new X509Certificate(dsc.certificatePem).publicKey.asymmetricKeyType).toBe('rsa');
  });

  it('escapes RFC 4514 specials so a comma stays inside one attribute', async () => {
    const dsc = await generateDsc({ subject: { C: 'IN', O: 'MoHFW, Govt. of India', CN: 'DSC' } });
    expect(new X509Certificate(dsc.certificatePem).subject.split('\n')).toEqual([
      'C=IN',
      'O=MoHFW\\, Govt. of India',
      'CN=DSC',
    ]);
  });

  it('rejects a country that is not alpha-2', async () => {
    await expect(generateDsc({ subject: { C: 'IND', O: 'x', CN: 'y' } })).rejects.toThrow(RangeError);
  });
});
