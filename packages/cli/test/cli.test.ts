import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../../../test-fixtures/index.js';

const main = join(import.meta.dirname, '..', 'dist', 'main.js');
const work = mkdtempSync(join(tmpdir(), 'divoc-cli-'));
const divoc = (...args: string[]) => {
  const run = spawnSync(process.execPath, [main, ...args], {
    encoding: 'utf8',
    cwd: work,
    env: { ...process.env, DIVOC_DATA_DIR: join(work, 'data'), INIT_CWD: work },
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
