import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import type { VaccinationCredential } from '@divoc/credentials';
import { CompactSign, calculateJwkThumbprint, type JWK } from 'jose';
import { buildShcBundle, type ShcBundleOptions } from './bundle.js';
import type { ShcBundle } from './fhir.js';

export const HEALTH_CARD_TYPE = 'https://smarthealth.cards#health-card';
export const FHIR_VERSION = '4.0.1';
/** The largest JWS that fits one version-22 QR code at ECC L (the SHC size rule). */
export const MAX_SINGLE_QR_JWS = 1195;

/** The JWS payload of a SMART Health Card. */
export interface ShcPayload {
  iss: string;
  nbf: number;
  exp?: number;
  vc: {
    type: string[];
    credentialSubject: { fhirVersion: string; fhirBundle: ShcBundle };
    rid?: string;
  };
}

/** An ES256 (P-256) issuer key with its public JWK and RFC 7638 thumbprint kid. */
export interface ShcSigningKey {
  privateKey: KeyObject;
  /** Public only: kty, crv, x, y, plus kid, use `sig`, alg `ES256`. */
  publicJwk: JWK & { kid: string };
  kid: string;
}

/**
 * The public JWK (no `d`) of a P-256 key (private or public) with its thumbprint as `kid`, as
 * `<iss>/.well-known/jwks.json` lists it.
 */
export const shcPublicJwk = async (key: KeyObject): Promise<JWK & { kid: string }> => {
  const { kty, crv, x, y } = (key.type === 'public' ? key : createPublicKey(key)).export({ format: 'jwk' });
  if (kty !== 'EC' || crv !== 'P-256')
    throw new TypeError('SMART Health Cards are signed with ES256: a P-256 key is required');
  const jwk = { kty, crv, x, y } as JWK;
  const kid = await calculateJwkThumbprint(jwk, 'sha256');
  return { ...jwk, kid, use: 'sig', alg: 'ES256' };
};

/** An issuer key from a P-256 private key (PEM, e.g. `SHC_CERTIFICATE_PRIVATE_KEY`, or a KeyObject). */
export const shcSigningKey = async (privateKey: string | KeyObject): Promise<ShcSigningKey> => {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  const publicJwk = await shcPublicJwk(key);
  return { privateKey: key, publicJwk, kid: publicJwk.kid };
};

/** A new P-256 issuer key (for tests and `divoc keys`). */
export const generateShcKey = (): Promise<ShcSigningKey> =>
  shcSigningKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);

/** The JWKS document for `<issuer>/.well-known/jwks.json`: public keys only. */
export const shcJwks = (
  keys: readonly (ShcSigningKey | (JWK & { kid: string }))[],
): { keys: (JWK & { kid: string })[] } => ({
  keys: keys.map((key) => {
    const jwk = 'publicJwk' in key ? key.publicJwk : key;
    const { kty, crv, x, y, kid } = jwk;
    return { kty, crv, x, y, kid, use: 'sig', alg: 'ES256' } as JWK & { kid: string };
  }),
});

/** `iss` as the spec wants it: an http(s) URL without a trailing slash. */
export const normaliseIssuer = (issuer: string): string => {
  const trimmed = issuer.trim().replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch (error) {
    throw new RangeError(`the SHC issuer "${issuer}" is not a URL`, { cause: error });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new RangeError(`the SHC issuer must be https, got "${issuer}"`);
  return trimmed;
};

export const shcPayload = (bundle: ShcBundle, issuer: string, issuedAt: Date = new Date()): ShcPayload => ({
  iss: normaliseIssuer(issuer),
  nbf: Math.floor(issuedAt.getTime() / 1000),
  vc: {
    type: [HEALTH_CARD_TYPE],
    credentialSubject: { fhirVersion: FHIR_VERSION, fhirBundle: bundle },
  },
});

/** Minified JSON → raw DEFLATE → compact JWS with `{alg: ES256, zip: DEF, kid}`. */
export const signShc = (payload: ShcPayload, key: ShcSigningKey): Promise<string> =>
  new CompactSign(deflateRawSync(Buffer.from(JSON.stringify(payload), 'utf8'), { level: 9 }))
    .setProtectedHeader({ alg: 'ES256', zip: 'DEF', kid: key.kid })
    .sign(key.privateKey);

export interface ShcExportConfig extends ShcBundleOptions {
  /** `iss`: the issuer base URL, where `/.well-known/jwks.json` is served (DIVOC: `CERTIFICATE_ISSUER`). */
  issuer: string;
}

export interface ShcExport {
  jws: string;
  payload: ShcPayload;
}

/** Credentials (the doses of one person) → signed SMART Health Card JWS. */
export const exportShc = async (
  credentials: readonly VaccinationCredential[],
  config: ShcExportConfig,
  key: ShcSigningKey,
  issuedAt: Date = new Date(),
): Promise<ShcExport> => {
  const payload = shcPayload(buildShcBundle(credentials, config), config.issuer, issuedAt);
  return { jws: await signShc(payload, key), payload };
};
