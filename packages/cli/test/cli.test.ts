import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realInfraEnv, uniqueName, useRealInfra } from '@divoc/platform/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../../../test-fixtures/index.js';

const main = join(import.meta.dirname, '..', 'dist', 'main.js');
const work = mkdtempSync(join(tmpdir(), 'divoc-cli-'));
// `config push/pull` go to etcd in `pnpm test:infra` (a prefix of their own), to the embedded file store otherwise.
const etcd = useRealInfra() ? { ETCD_HOSTS: realInfraEnv().ETCD_HOSTS, ETCD_PREFIX: `${uniqueName('cli')}/` } : {};
const divoc = (...args: string[]) => {
  const run = spawnSync(process.execPath, [main, ...args], {
    encoding: 'utf8',
    cwd: work,
    env: { ...process.env, DIVOC_DATA_DIR: join(work, 'data'), INIT_CWD: work, ...etcd },
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
};

/** A usable error is one line on stderr, names the problem, and exits non-zero. */
const expectOneLineError = (result: ReturnType<typeof divoc>, pattern: RegExp) => {
  expect(result.code).not.toBe(0);
  expect(result.stdout).toBe('');
  expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(result.stderr).toMatch(pattern);
};

const ddcc = fixturePath('divoc', 'certify-v3-ddcc.json');

describe('divoc keys / sign / verify', () => {
  beforeAll(() => {
    expect(divoc('keys', 'generate', '--type', 'ed25519', '--out', 'ed').code).toBe(0);
    expect(divoc('keys', 'generate', '--type', 'rsa', '--out', 'rsa').code).toBe(0);
  });

  it.each(['ed', 'rsa'])('signs the DDCC fixture with %s keys, prints the credential, and verifies it', (keys) => {
    const signed = divoc('sign', ddcc, '--item', '1', '--keys', keys, '--qr', `${keys}.png`);
    expect(signed.code).toBe(0);
    const credential = JSON.parse(signed.stdout);
    expect(credential.evidence[0].dose).toBe(2);
    writeFileSync(join(work, `${keys}.json`), signed.stdout);
    expect(divoc('verify', `${keys}.json`, '--keys', keys)).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^valid/),
    });
    expect(divoc('verify', `${keys}.png`, '--keys', keys)).toMatchObject({ code: 0 });
  });

  it('signs test-result requests', () => {
    const signed = divoc('sign', fixturePath('divoc', 'test-certify.json'), '--keys', 'ed');
    expect(JSON.parse(signed.stdout).type).toContain('ProofOfTestCertificateCredential');
  });

  it('uses (and creates) a development key when --keys is not given', () => {
    const signed = divoc('sign', ddcc);
    expect(signed.code).toBe(0);
    expect(signed.stderr).toMatch(/created a development RSA signing key/);
    writeFileSync(join(work, 'dev.json'), signed.stdout);
    expect(divoc('verify', 'dev.json').code).toBe(0);
  });

  it('exits 2 with the reason for a tampered credential or an untrusted key', () => {
    const tampered = readFileSync(join(work, 'ed.json'), 'utf8').replace('"dose": 2', '"dose": 1');
    writeFileSync(join(work, 'tampered.json'), tampered);
    const bad = divoc('verify', 'tampered.json', '--keys', 'ed');
    expect(bad.code).toBe(2);
    expectOneLineError(bad, /bad-signature/);
    expectOneLineError(divoc('verify', 'ed.json', '--keys', 'rsa'), /unknown-key/);
  });

  it('gives one-line errors for bad input', () => {
    writeFileSync(join(work, 'broken.json'), '{');
    writeFileSync(join(work, 'invalid.json'), JSON.stringify([{ preEnrollmentCode: 'x' }]));
    expectOneLineError(divoc('sign', 'missing.json', '--keys', 'ed'), /missing\.json: no such file/);
    expectOneLineError(divoc('sign', 'broken.json', '--keys', 'ed'), /broken\.json: invalid JSON/);
    expectOneLineError(
      divoc('sign', 'invalid.json', '--keys', 'ed'),
      /item 0 is not a valid request: recipient is required/,
    );
    expectOneLineError(divoc('sign', ddcc, '--item', '7', '--keys', 'ed'), /--item 7 does not exist/);
    expectOneLineError(divoc('verify', 'missing.png', '--keys', 'ed'), /no such file/);
    expectOneLineError(divoc('verify', 'broken.json', '--keys', 'ed'), /invalid JSON/);
    expectOneLineError(divoc('keys', 'generate', '--type', 'dsa', '--out', 'x'), /--type must be rsa or ed25519/);
    expectOneLineError(divoc('keys', 'generate', '--type', 'rsa', '--out', 'ed'), /refusing to overwrite/);
    expectOneLineError(divoc('frobnicate'), /unknown command/);
    expectOneLineError(divoc('sign', '--bogus'), /Unknown option '--bogus'/);
  });

  it('names the etcd key to edit for an unknown vaccine', () => {
    const request = JSON.parse(readFileSync(ddcc, 'utf8'));
    request[0].vaccination.name = 'Vaxitol';
    writeFileSync(join(work, 'unknown.json'), JSON.stringify(request));
    expectOneLineError(divoc('sign', 'unknown.json', '--keys', 'ed'), /Vaxitol.*VACCINE_ICD/);
  });
});

describe('divoc keys eu-dsc / shc', () => {
  it('creates a DSC key, a CSR with the subject fields and a self-signed DSC that signs EU certificates', async () => {
    const result = divoc(
      'keys',
      'eu-dsc',
      '--country',
      'lk',
      '--state',
      'Western',
      '--locality',
      'Colombo',
      '--org',
      'Ministry of Health',
      '--unit',
      'Epidemiology Unit',
      '--cn',
      'LK DSC 1',
      '--types',
      'v',
      '--out',
      'dsc',
    );
    expect(result.code, result.stderr).toBe(0);
    const printed = JSON.parse(result.stdout);
    expect(printed.algorithm).toBe('ES256');
    const { X509Certificate, createPrivateKey } = await import('node:crypto');
    const certificate = new X509Certificate(readFileSync(join(work, 'dsc', 'dsc.crt.pem')));
    expect(certificate.subject.split('\n')).toEqual([
      'C=LK',
      'ST=Western',
      'L=Colombo',
      'O=Ministry of Health',
      'OU=Epidemiology Unit',
      'CN=LK DSC 1',
    ]);
    const key = createPrivateKey(readFileSync(join(work, 'dsc', 'dsc.key.pem')));
    expect(certificate.checkPrivateKey(key)).toBe(true);
    expect(readFileSync(join(work, 'dsc', 'dsc.csr.pem'), 'utf8')).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----/);
    const { statSync } = await import('node:fs');
    expect(statSync(join(work, 'dsc', 'dsc.key.pem')).mode & 0o077).toBe(0);
    const { createDscSigner } = await import('@divoc/eu-dcc');
    expect(Buffer.from(createDscSigner({ certificate, privateKey: key }).kid).toString('base64')).toBe(printed.kid);
  });

  it('creates RSA DSCs, and refuses bad subjects and existing files', () => {
    expect(
      divoc(
        'keys',
        'eu-dsc',
        '--country',
        'JM',
        '--org',
        'MoHW',
        '--cn',
        'JM DSC',
        '--algorithm',
        'ps256',
        '--rsa-bits',
        '2048',
        '--out',
        'dsc-rsa',
      ),
    ).toMatchObject({ code: 0, stdout: expect.stringContaining('"PS256"') });
    expectOneLineError(divoc('keys', 'eu-dsc', '--country', 'IND', '--org', 'O', '--cn', 'C', '--out', 'x'), /alpha-2/);
    expectOneLineError(divoc('keys', 'eu-dsc', '--org', 'O', '--cn', 'C', '--out', 'x'), /--country is required/);
    expectOneLineError(
      divoc('keys', 'eu-dsc', '--country', 'IN', '--org', 'O', '--cn', 'C', '--out', 'dsc'),
      /refusing to overwrite/,
    );
    expectOneLineError(divoc('keys', 'rotate'), /generate, eu-dsc or shc/);
  });

  it('creates an SHC issuer key and the JWKS that lists its thumbprint', () => {
    const result = divoc('keys', 'shc', '--out', 'shc');
    expect(result.code, result.stderr).toBe(0);
    const { kid } = JSON.parse(result.stdout);
    const jwks = JSON.parse(readFileSync(join(work, 'shc', 'jwks.json'), 'utf8'));
    expect(jwks.keys).toEqual([expect.objectContaining({ kid, kty: 'EC', crv: 'P-256', alg: 'ES256' })]);
    expect(jwks.keys[0].d).toBeUndefined();
  });
});

describe('divoc config', () => {
  const defaults = join(import.meta.dirname, '..', '..', '..', 'etcd-config');

  it('checks configuration files with the services’ schemas and cross-key rules', () => {
    const ok = divoc('config', 'check', defaults);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).valid).toEqual(expect.arrayContaining(['ICD', 'VACCINE_ICD', 'euVaccineCode']));
    mkdirSync(join(work, 'bad-config'));
    writeFileSync(
      join(work, 'bad-config', 'VACCINE_ICD.json'),
      JSON.stringify([{ vaccineName: 'vaxitol', icd11Code: 'XX0000' }]),
    );
    cpSync(join(defaults, 'ICD.json'), join(work, 'bad-config', 'ICD.json'));
    expectOneLineError(divoc('config', 'check', 'bad-config'), /vaxitol.*XX0000|XX0000.*ICD/);
    mkdirSync(join(work, 'typo-config'));
    writeFileSync(join(work, 'typo-config', 'VACCINE_ICDS.json'), '[]');
    expectOneLineError(divoc('config', 'check', 'typo-config'), /VACCINE_ICDS\.json.*not a key the services read/);
  });

  it('pushes a changed mapping (or only missing keys), and pulls what is in force', () => {
    const vaccines = JSON.parse(readFileSync(join(defaults, 'VACCINE_ICD.json'), 'utf8'));
    vaccines.push({ vaccineName: 'vaxitol', icd11Code: 'XM9QW8' });
    mkdirSync(join(work, 'change'));
    writeFileSync(join(work, 'change', 'VACCINE_ICD.json'), JSON.stringify(vaccines, null, 2));
    const first = divoc('config', 'push', 'change');
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ written: ['VACCINE_ICD'], kept: [] });
    expect(JSON.parse(divoc('config', 'push', 'change', '--keep-existing').stdout)).toMatchObject({
      written: [],
      kept: ['VACCINE_ICD'],
    });
    expect(JSON.parse(divoc('config', 'push', 'change').stdout)).toMatchObject({ written: ['VACCINE_ICD'] });
    const pulled = divoc('config', 'pull', 'pulled');
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(JSON.parse(pulled.stdout).pulled).toContain('VACCINE_ICD');
    expect(JSON.parse(readFileSync(join(work, 'pulled', 'VACCINE_ICD.json'), 'utf8'))).toContainEqual({
      vaccineName: 'vaxitol',
      icd11Code: 'XM9QW8',
    });
    expectOneLineError(divoc('config', 'pull', 'pulled'), /refusing to overwrite VACCINE_ICD\.json/);
    expect(divoc('config', 'pull', 'pulled', '--force').code).toBe(0);
    expectOneLineError(divoc('config', 'push', 'bad-config'), /XX0000/);
  });
});
