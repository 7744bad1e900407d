import { createHash, createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import type { VaccinationCredential } from '@divoc/credentials';
import { base45Encode } from './base45.js';
import { type CborValue, encodeCbor } from './cbor.js';
import { type CoseAlgorithm, checkKeyType, signSign1 } from './cose.js';
import { EuDccSignerError } from './errors.js';
import { buildDccPayload, type EuDccMappingOptions } from './mapping.js';
import type { EuHolderNames } from './names.js';
import type { DccPayload } from './payload.js';
import { assertValidDccPayload } from './schema.js';

/** The context identifier in front of every EU-DCC QR payload. */
export const HC1_PREFIX = 'HC1:';

/** CWT claim keys (RFC 8392) and the EU `hcert` claim. */
export const CLAIM_ISS = 1;
export const CLAIM_EXP = 4;
export const CLAIM_IAT = 6;
export const CLAIM_HCERT = -260;
/** Key of the DCC payload inside `hcert` (schema version 1 of the container). */
export const HCERT_DCC = 1;

/** `kid` of a Document Signer Certificate: the first 8 bytes of SHA-256 over the whole certificate DER. */
export const dscKid = (certificateDer: Uint8Array): Uint8Array =>
  new Uint8Array(createHash('sha256').update(certificateDer).digest().subarray(0, 8));

/** A DSC and its private key, ready to sign. */
export interface DscSigner {
  algorithm: CoseAlgorithm;
  privateKey: KeyObject;
  certificate: X509Certificate;
  kid: Uint8Array;
}

/**
 * A signer from the DSC (PEM or DER; DIVOC's `EU_CERTIFICATE_PUBLIC_KEY`) and its private key (PKCS#8 or
 * SEC1 PEM, or a KeyObject; `EU_CERTIFICATE_PRIVATE_KEY`). The algorithm follows the key: P-256 → ES256,
 * RSA → PS256. Throws `EuDccSignerError` when the key does not belong to the certificate.
 */
export const createDscSigner = (input: {
  certificate: string | Uint8Array | X509Certificate;
  privateKey: string | KeyObject;
}): DscSigner => {
  let certificate: X509Certificate;
  let privateKey: KeyObject;
  try {
    certificate =
      input.certificate instanceof X509Certificate ? input.certificate : new X509Certificate(input.certificate);
    privateKey = typeof input.privateKey === 'string' ? createPrivateKey(input.privateKey) : input.privateKey;
  } catch (error) {
    throw new EuDccSignerError('the DSC certificate or private key cannot be read', { cause: error });
  }
  const algorithm: CoseAlgorithm = privateKey.asymmetricKeyType === 'ec' ? 'ES256' : 'PS256';
  try {
    checkKeyType(algorithm, privateKey);
  } catch (error) {
    throw new EuDccSignerError(`the DSC key cannot sign EU-DCCs: ${(error as Error).message}`, { cause: error });
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new EuDccSignerError('the private key does not belong to the DSC certificate');
  }
  return { algorithm, privateKey, certificate, kid: dscKid(certificate.raw) };
};

/** `date` plus whole calendar months in UTC; the day is clamped to the end of a shorter month. */
export const addMonths = (date: Date, months: number): Date => {
  const result = new Date(date.getTime());
  const day = result.getUTCDate();
  result.setUTCDate(1);
  result.setUTCMonth(result.getUTCMonth() + months);
  const lastDay = new Date(Date.UTC(result.getUTCFullYear(), result.getUTCMonth() + 1, 0)).getUTCDate();
  result.setUTCDate(Math.min(day, lastDay));
  return result;
};

export interface HcertClaims {
  /** Issuing country, ISO 3166-1 alpha-2. */
  iss: string;
  /** Issued at, seconds since the epoch. */
  iat: number;
  /** Expires at, seconds since the epoch. */
  exp: number;
}

export interface SignHcertOptions {
  /** `iss`: ISO 3166-1 alpha-2 of the issuing state. */
  issuerCountry: string;
  /** `EU_CERTIFICATE_EXPIRY`: months until `exp`. */
  expiryMonths: number;
  /** `iat`; default now. */
  issuedAt?: Date | undefined;
}

export interface SignedHcert {
  /** `HC1:` + Base45 — the QR content. */
  hc1: string;
  /** The COSE_Sign1 bytes (before zlib). */
  cose: Uint8Array;
  claims: HcertClaims;
}

/**
 * Signs a DCC payload: validates it (official schema + value sets; an invalid payload is never signed),
 * wraps it in CWT claims `{1: iss, 4: exp, 6: iat, -260: {1: payload}}` (deterministic CBOR), signs a
 * COSE_Sign1 with the DSC (protected `{1: alg, 4: kid}`), compresses with zlib, Base45-encodes and adds
 * `HC1:`. `exp` is `iat` + `expiryMonths`, but never later than the DSC's own expiry.
 */
export const signHcert = (payload: DccPayload, signer: DscSigner, options: SignHcertOptions): SignedHcert => {
  assertValidDccPayload(payload);
  if (!/^[A-Z]{2}$/.test(options.issuerCountry)) {
    throw new EuDccSignerError(`the issuing country must be ISO 3166-1 alpha-2, got "${options.issuerCountry}"`);
  }
  if (!Number.isInteger(options.expiryMonths) || options.expiryMonths < 1) {
    throw new EuDccSignerError(
      `EU_CERTIFICATE_EXPIRY must be a whole number of months >= 1, got ${options.expiryMonths}`,
    );
  }
  const issuedAt = options.issuedAt ?? new Date();
  const validFrom = new Date(signer.certificate.validFrom);
  const validTo = new Date(signer.certificate.validTo);
  if (issuedAt < validFrom || issuedAt > validTo) {
    throw new EuDccSignerError(
      `the DSC is valid from ${validFrom.toISOString()} to ${validTo.toISOString()}, not at ${issuedAt.toISOString()}`,
    );
  }
  const expires = addMonths(issuedAt, options.expiryMonths);
  const claims: HcertClaims = {
    iss: options.issuerCountry,
    iat: Math.floor(issuedAt.getTime() / 1000),
    exp: Math.floor(Math.min(expires.getTime(), validTo.getTime()) / 1000),
  };
  const cwt = encodeCbor(
    new Map<CborValue, CborValue>([
      [CLAIM_ISS, claims.iss],
      [CLAIM_EXP, claims.exp],
      [CLAIM_IAT, claims.iat],
      [CLAIM_HCERT, new Map<CborValue, CborValue>([[HCERT_DCC, payload as unknown as CborValue]])],
    ]),
  );
  const cose = signSign1({ algorithm: signer.algorithm, kid: signer.kid, payload: cwt, privateKey: signer.privateKey });
  return { hc1: HC1_PREFIX + base45Encode(deflateSync(cose, { level: 9 })), cose, claims };
};

export interface EuDccExportConfig extends EuDccMappingOptions {
  /** `EU_CERTIFICATE_EXPIRY` in months. */
  expiryMonths: number;
}

export interface EuDccExport extends SignedHcert {
  payload: DccPayload;
}

/** Credential + holder names → signed `HC1:` string (mapping, validation, CBOR, COSE, zlib, Base45). */
export const exportEuDcc = (
  credential: VaccinationCredential,
  names: EuHolderNames,
  config: EuDccExportConfig,
  signer: DscSigner,
  issuedAt: Date = new Date(),
): EuDccExport => {
  const payload = buildDccPayload(credential, names, config);
  const entry = payload.v?.[0];
  const issuerCountry = config.issuerCountry ?? (entry as { co: string }).co;
  return { payload, ...signHcert(payload, signer, { issuerCountry, expiryMonths: config.expiryMonths, issuedAt }) };
};
