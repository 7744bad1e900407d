import { describe, expect, it } from 'vitest';
import {
  buildTestCredential,
  buildVaccinationCredential,
  CONTEXT_URLS,
  generateSigningKey,
  type KeyType,
  type SignedCredential,
  signCredential,
  type TrustedKey,
  verifyCredential,
} from '../src/index.js';
import { config, ddccRequests, FIXED_ID, FIXED_TIME, testRequests } from './support.js';

const keys = {
  RSA: generateSigningKey('RSA'),
  ED25519: generateSigningKey('ED25519'),
};
const trustedKeys: TrustedKey[] = [
  { ...keys.RSA, controller: config.issuer },
  { ...keys.ED25519, controller: config.issuer },
];

const credential = buildVaccinationCredential(
  ddccRequests[0] as (typeof ddccRequests)[number],
  'v3',
  { certificateId: FIXED_ID, issuanceDate: FIXED_TIME },
  config,
);

type Path = (string | number)[];
type Json = Record<string, unknown>;

/** Every primitive value under `root`, with its path. */
const leaves = (value: unknown, path: Path = []): { path: Path; value: string | number }[] => {
  if (typeof value === 'string' || typeof value === 'number') return [{ path, value }];
  if (Array.isArray(value)) return value.flatMap((item, index) => leaves(item, [...path, index]));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, member]) => leaves(member, [...path, key]));
  }
  return [];
};

const setAt = (root: Json, path: Path, value: unknown): void => {
  let node = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path[path.length - 1] as string | number] = value;
};

const changed = (value: string | number): string | number => (typeof value === 'number' ? value + 1 : `${value}x`);

describe.each(['RSA', 'ED25519'] as KeyType[])('%s credentials', (type) => {
  const sign = () => signCredential(credential, { key: keys[type], created: FIXED_TIME });

  it('build → sign → verify passes', async () => {
    const signed = await sign();
    expect(signed.proof.type).toBe(type === 'RSA' ? 'RsaSignature2018' : 'Ed25519Signature2020');
    expect(signed.proof.verificationMethod).toBe(`${config.issuer}#${keys[type].keyId}`);
    await expect(verifyCredential(signed, { trustedKeys })).resolves.toMatchObject({ valid: true });
  });

  it('test certificates sign and verify too', async () => {
    const test = buildTestCredential(
      testRequests[0] as (typeof testRequests)[number],
      { certificateId: FIXED_ID, issuanceDate: FIXED_TIME },
      config,
    );
    const signed = await signCredential(test, { key: keys[type] });
    await expect(verifyCredential(signed, { trustedKeys })).resolves.toMatchObject({ valid: true });
  });

  it('is deterministic for a fixed clock and certificate id', async () => {
    expect(JSON.stringify(await sign())).toBe(JSON.stringify(await sign()));
  });

  it('fails when any single field of the signed credential changes', async () => {
    const signed = await sign();
    const { proof: _proof, ...unsigned } = signed;
    const fields = leaves(unsigned).filter(({ path }) => path[0] !== '@context');
    expect(fields.length).toBeGreaterThan(30);
    for (const { path, value } of fields) {
      const tampered = structuredClone(signed) as unknown as Json;
      setAt(tampered, path, changed(value));
      const result = await verifyCredential(tampered, { trustedKeys });
      expect(result.valid, `changing ${path.join('.')} must break the signature`).toBe(false);
    }
  });

  it('fails when the proof options change, although equal options are hashed only once', async () => {
    const signed = await sign();
    // Verified right after signing: the proof options' hash comes from the cache, and must still bind them.
    await expect(verifyCredential(signed, { trustedKeys })).resolves.toMatchObject({ valid: true });
    const later = { ...signed, proof: { ...signed.proof, created: '2021-05-10T09:30:01Z' } };
    expect((await verifyCredential(later, { trustedKeys })).valid).toBe(false);
    const purpose = { ...signed, proof: { ...signed.proof, proofPurpose: 'authentication' } };
    expect((await verifyCredential(purpose, { trustedKeys })).valid).toBe(false);
    // And the original still verifies after the others were hashed.
    await expect(verifyCredential(signed, { trustedKeys })).resolves.toMatchObject({ valid: true });
  });

  it('fails when the values of any two same-typed fields of credentialSubject and evidence are swapped', async () => {
    const signed = await sign();
    const fields = [
      ...leaves(signed.credentialSubject, ['credentialSubject']),
      ...leaves(signed.evidence, ['evidence']),
    ];
    let pairs = 0;
    for (let i = 0; i < fields.length; i++) {
      for (let j = i + 1; j < fields.length; j++) {
        const a = fields[i] as (typeof fields)[number];
        const b = fields[j] as (typeof fields)[number];
        if (typeof a.value !== typeof b.value || a.value === b.value) continue;
        pairs++;
        const swapped = structuredClone(signed) as unknown as Json;
        setAt(swapped, a.path, b.value);
        setAt(swapped, b.path, a.value);
        const result = await verifyCredential(swapped, { trustedKeys });
        expect(result.valid, `swapping ${a.path.join('.')} and ${b.path.join('.')} must break the signature`).toBe(
          false,
        );
      }
    }
    // dose ↔ totalDoses, batch ↔ vaccine, the three dates, ... all included.
    expect(pairs).toBeGreaterThan(400);
  });
});

describe('failures', () => {
  it('rejects a credential signed by a key that is not trusted', async () => {
    const stranger = generateSigningKey('ED25519');
    const signed = await signCredential(credential, { key: stranger });
    await expect(verifyCredential(signed, { trustedKeys })).resolves.toMatchObject({
      valid: false,
      reason: 'unknown-key',
    });
  });

  it('rejects a trusted key used for another issuer', async () => {
    const foreign = { ...credential, issuer: 'did:web:elsewhere.example' };
    const signed = await signCredential(foreign, { key: keys.ED25519 });
    await expect(verifyCredential(signed, { trustedKeys })).resolves.toMatchObject({
      valid: false,
      reason: 'unknown-key',
    });
  });

  it('refuses to sign a credential with an unknown context, naming the URL', async () => {
    const foreign = { ...credential, '@context': [...credential['@context'], 'https://example.org/evil/v1'] };
    await expect(signCredential(foreign, { key: keys.ED25519 })).rejects.toThrow(
      /example\.org\/evil\/v1.*never fetched/,
    );
  });

  it('reports an unknown context when verifying', async () => {
    const signed = (await signCredential(credential, { key: keys.RSA })) as SignedCredential & Json;
    const foreign = { ...signed, '@context': [...signed['@context'], 'https://example.org/evil/v1'] };
    await expect(verifyCredential(foreign, { trustedKeys })).resolves.toMatchObject({
      valid: false,
      reason: 'unknown-context',
    });
  });

  it('reports malformed input without throwing', async () => {
    for (const input of [null, 'text', [], { '@context': [CONTEXT_URLS.credentials] }, { '@context': 'x' }]) {
      await expect(verifyCredential(input, { trustedKeys })).resolves.toMatchObject({ valid: false });
    }
  });

  it('reports a field JSON-LD cannot map as malformed', async () => {
    const signed = (await signCredential(credential, { key: keys.RSA })) as unknown as Json;
    const extended = { ...signed, undefinedTerm: 'x' };
    await expect(verifyCredential(extended, { trustedKeys })).resolves.toMatchObject({
      valid: false,
      reason: 'malformed',
    });
  });
});
