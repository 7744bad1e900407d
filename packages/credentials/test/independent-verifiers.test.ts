import { createHash } from 'node:crypto';
// @ts-expect-error: no type declarations are published for these packages
import { Ed25519Signature2020 } from '@digitalbazaar/ed25519-signature-2020';
// @ts-expect-error: no type declarations are published for these packages
import * as vc from '@digitalbazaar/vc';
import { flattenedVerify } from 'jose';
import jsonld from 'jsonld';
import { describe, expect, it } from 'vitest';
import {
  buildVaccinationCredential,
  createDocumentLoader,
  generateSigningKey,
  signCredential,
  type TrustedKey,
} from '../src/index.js';
import { config, ddccRequests, FIXED_ID, FIXED_TIME } from './support.js';

const build = (index: number) =>
  buildVaccinationCredential(
    ddccRequests[index] as (typeof ddccRequests)[number],
    'v3',
    { certificateId: FIXED_ID, issuanceDate: FIXED_TIME },
    config,
  );

describe('Ed25519Signature2020 credentials', () => {
  const key = generateSigningKey('ED25519');
  const trusted: TrustedKey[] = [{ ...key, controller: config.issuer }];
  const documentLoader = createDocumentLoader(trusted);

  it("verify with @digitalbazaar/vc's own verifier", async () => {
    for (const index of [0, 1]) {
      const credential = await signCredential(build(index), { key });
      const result = await vc.verifyCredential({
        credential,
        suite: new Ed25519Signature2020(),
        documentLoader,
      });
      expect(result.error, JSON.stringify(result.error?.errors?.map((e: Error) => e.message))).toBeUndefined();
      expect(result.verified).toBe(true);
    }
  });

  it('and @digitalbazaar/vc rejects a swapped dose', async () => {
    const credential = await signCredential(build(1), { key });
    const evidence = credential.evidence[0];
    [evidence.dose, evidence.totalDoses] = [evidence.totalDoses, evidence.dose + 1];
    const result = await vc.verifyCredential({
      credential,
      suite: new Ed25519Signature2020(),
      documentLoader,
    });
    expect(result.verified).toBe(false);
  });
});

describe('RsaSignature2018 credentials', () => {
  const key = generateSigningKey('RSA');
  const documentLoader = createDocumentLoader();
  const canonize = (document: object) =>
    jsonld.canonize(document, {
      algorithm: 'RDFC-1.0',
      format: 'application/n-quads',
      base: null,
      safe: true,
      documentLoader,
    });
  const sha256 = (text: string) => createHash('sha256').update(text).digest();

  /** Recomputes the detached payload with jsonld directly and checks the JWS with jose. */
  const verifyWithJose = async (credential: Record<string, any>) => {
    const { proof, ...unsigned } = credential;
    const { jws, ...proofOptions } = proof;
    const verifyData = Buffer.concat([
      sha256(await canonize({ '@context': credential['@context'], ...proofOptions })),
      sha256(await canonize(unsigned)),
    ]);
    const [protectedHeader, , signature] = (jws as string).split('.');
    return flattenedVerify(
      { protected: protectedHeader as string, payload: verifyData, signature: signature as string },
      key.key,
    );
  };

  it('verify with jose over the canonical N-Quads (detached PS256 JWS, b64:false)', async () => {
    const credential = await signCredential(build(0), { key });
    const result = await verifyWithJose(credential);
    expect(result.protectedHeader).toEqual({ alg: 'PS256', b64: false, crit: ['b64'] });
  });

  it('and jose rejects a tampered credential', async () => {
    const credential = await signCredential(build(0), { key });
    credential.evidence[0].batch = 'OTHER';
    await expect(verifyWithJose(credential)).rejects.toThrow(/signature verification failed/);
  });
});
