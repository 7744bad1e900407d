// @ts-expect-error: no type declarations are published for these packages
import { Ed25519Signature2020 } from '@digitalbazaar/ed25519-signature-2020';
// @ts-expect-error: no type declarations are published for these packages
import * as vc from '@digitalbazaar/vc';
// @ts-expect-error: no type declarations are published for these packages
import { decodeList } from '@digitalbazaar/vc-status-list';
import { describe, expect, it } from 'vitest';
import {
  buildStatusListCredential,
  buildVaccinationCredential,
  createDocumentLoader,
  encodeStatusList,
  generateSigningKey,
  signCredential,
  statusEntry,
  type TrustedKey,
  verifyCredential,
} from '../src/index.js';
import { config, ddccRequests, FIXED_TIME } from './support.js';

const SIZE = 131_072;
const LIST_URL = 'https://divoc.example/status-lists/1';
const key = generateSigningKey('ED25519');
const trustedKeys: TrustedKey[] = [{ ...key, controller: config.issuer }];

const list = (revoked: number[]) =>
  signCredential(
    buildStatusListCredential({
      listUrl: LIST_URL,
      issuer: config.issuer,
      encodedList: encodeStatusList(SIZE, revoked),
      issuanceDate: FIXED_TIME,
    }),
    { key },
  );

const certificate = (index: number) =>
  signCredential(
    buildVaccinationCredential(
      ddccRequests[0] as (typeof ddccRequests)[number],
      'v3',
      { certificateId: `ID${index}`, issuanceDate: FIXED_TIME, status: statusEntry(LIST_URL, index) },
      config,
    ),
    { key },
  );

describe('status lists', () => {
  it('keep 131,072 entries in well under 16 KB, readable by @digitalbazaar/vc-status-list', async () => {
    const revoked = Array.from({ length: 2000 }, (_, i) => (i * 7919) % SIZE);
    const encoded = encodeStatusList(SIZE, revoked);
    expect(Buffer.from(encoded, 'base64url').length).toBeLessThanOrEqual(16 * 1024);
    const decoded = await decodeList({ encodedList: encoded });
    expect(decoded.length).toBe(SIZE);
    for (const index of revoked.slice(0, 50)) expect(decoded.getStatus(index)).toBe(true);
    expect(decoded.getStatus(1)).toBe(false);
  });

  it("are signed credentials that @digitalbazaar/vc's own verifier accepts", async () => {
    const credential = await list([5, 70_000]);
    const result = await vc.verifyCredential({
      credential,
      suite: new Ed25519Signature2020(),
      documentLoader: createDocumentLoader(trustedKeys),
    });
    expect(result.error, JSON.stringify(result.error?.errors?.map((e: Error) => e.message))).toBeUndefined();
    expect(result.verified).toBe(true);
  });

  it('let a verifier with only the public key and the downloaded list detect a revocation offline', async () => {
    const downloaded = await list([42]);
    const statusList = (url: string) => (url === LIST_URL ? downloaded : undefined);
    await expect(verifyCredential(await certificate(42), { trustedKeys, statusList })).resolves.toMatchObject({
      valid: false,
      reason: 'revoked',
    });
    await expect(verifyCredential(await certificate(43), { trustedKeys, statusList })).resolves.toMatchObject({
      valid: true,
      revocation: 'not-revoked',
    });
    await expect(verifyCredential(await certificate(42), { trustedKeys })).resolves.toMatchObject({
      valid: true,
      revocation: 'not-checked',
    });
  });

  it('refuse a list that is not signed by a trusted key of the issuer', async () => {
    const forged = await signCredential(
      buildStatusListCredential({
        listUrl: LIST_URL,
        issuer: config.issuer,
        encodedList: encodeStatusList(SIZE, []),
        issuanceDate: FIXED_TIME,
      }),
      { key: generateSigningKey('ED25519') },
    );
    await expect(
      verifyCredential(await certificate(42), { trustedKeys, statusList: () => forged }),
    ).resolves.toMatchObject({
      valid: false,
      reason: 'malformed',
    });
  });
});
